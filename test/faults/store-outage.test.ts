import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { compile, pipeline } from '../../dsl';
import { SYSTEM, type Store } from '../../store';
import { runPipeline } from '../../workflows';
import { counted } from '../fixtures/steps';
import { testBackends, type TestBackend } from '../support/backends';
import { temporal, type TestTemporal } from '../support/temporal';
import { cuttableProxy } from './tcp-proxy';
import { eventually, workerProcesses } from './worker-processes';

// Issue 11 item 12: the store unreachable for a minute in the middle of a run. The worker reaches
// PostgreSQL through a proxy the test cuts; steps retry by their policy and the run completes.

const OUTAGE_MS = 60_000;

let t: TestTemporal;
let backend: TestBackend;
let store: Store;
let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
let workers: ReturnType<typeof workerProcesses>;
let dir: string;
const taskQueue = `outage-${randomUUID()}`;
before(async () => {
  t = await temporal();
  backend = testBackends().find((b) => b.name === 'postgres')!;
  store = await backend.open();
  const url = new URL(await backend.url!());
  proxy = await cuttableProxy({ host: url.hostname, port: Number(url.port) });
  dir = await mkdtemp(join(tmpdir(), 'kiln-outage-'));
  workers = workerProcesses({ address: () => t.address, taskQueue, artifactsDir: dir });
});
after(async () => {
  await workers?.killAll();
  await proxy?.close();
  await backend?.close();
  await t?.stop();
});

const executions = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);

it('completes a run whose store is unreachable for a minute, each step recorded once', async () => {
  const countFile = join(dir, 'executions.txt');
  const through = new URL(await backend.url!());
  through.host = `127.0.0.1:${proxy.port}`;
  await workers.start(through.toString(), { KILN_TEST_COUNT_FILE: countFile });
  // Retries by policy: every 5 s at most, for longer than the outage.
  const outlasting = pipeline(
    { name: 'store-outage', defaults: { retry: { maximumAttempts: 40, maximumInterval: '5s' } } },
    (p) => {
      const first = p.step(counted, { key: 'first' }, { id: 'first' });
      const during = p.step(counted, { key: 'during', ms: 1000, after: first.key }, { id: 'during' });
      const then = p.step(counted, { key: 'then', after: during.key }, { id: 'then' });
      p.step(counted, { key: 'last', after: then.key }, { id: 'last' });
    },
  );
  const handle = await t.client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `outage-${randomUUID()}`,
    args: [{ plan: compile(outlasting) }],
  });
  await eventually('the step before the outage', async () =>
    (await executions(countFile)).includes('during') ? true : undefined,
  );
  await proxy.cut();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  await proxy.restore();

  const result = await handle.result();
  assert.deepEqual(
    result.nodes.map((n) => [n.id, n.status]),
    ['first', 'during', 'then', 'last'].map((id) => [id, 'succeeded']),
  );
  const steps = await store.steps.listSteps(SYSTEM, handle.workflowId);
  assert.deepEqual(steps.map((s) => [s.nodeId, s.status]).sort(), [
    ['during', 'succeeded'],
    ['first', 'succeeded'],
    ['last', 'succeeded'],
    ['then', 'succeeded'],
  ]);
  assert.equal((await store.runs.getRun(SYSTEM, handle.workflowId))?.status, 'succeeded');
});
