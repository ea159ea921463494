import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { compile, pipeline } from '../../dsl';
import { workflowBundle } from '../../workers/bundle';
import { runPipeline } from '../../workflows';
import { counted } from '../fixtures/steps';
import { temporal } from '../support/temporal';

let server: Awaited<ReturnType<typeof temporal>>;
let client: Client;
const workers: ChildProcess[] = [];
before(async () => {
  server = await temporal();
  client = new Client({ connection: await Connection.connect({ address: server.address }) });
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await client?.connection.close();
  await server?.stop();
});

/** Starts a worker in its own process and resolves once it polls. */
function startWorker(taskQueue: string, dir: string, countFile: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '../fixtures/worker-process.ts'), server.address, taskQueue, dir],
    {
      env: { ...process.env, KILN_TEST_COUNT_FILE: countFile },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  workers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

const counts = async (file: string) => {
  const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return Object.fromEntries([...new Set(lines)].map((k) => [k, lines.filter((l) => l === k).length]));
};

it('finishes a run whose worker was SIGKILLed mid-training, without re-running finished steps, and replays deterministically', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-durable-'));
  const countFile = join(dir, 'executions.txt');
  const taskQueue = `durable-${randomUUID()}`;
  const durable = pipeline({ name: 'durable' }, (p) => {
    const prep = p.step(counted, { key: 'prep' }, { id: 'prep' });
    const train = p.step(counted, { key: 'train', ms: 6000, after: prep.key }, { id: 'train' });
    p.step(counted, { key: 'report', after: train.key }, { id: 'report' });
  });
  const first = await startWorker(taskQueue, dir, countFile);
  const handle = await client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `durable-${randomUUID()}`,
    args: [{ plan: compile(durable) }],
  });

  const deadline = Date.now() + 30_000;
  while (!(await counts(countFile)).train) {
    assert.ok(Date.now() < deadline, 'training never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  // No worker answers queries now; the server itself says the run lives on.
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  await startWorker(taskQueue, dir, countFile);
  const result = await handle.result();
  assert.deepEqual(
    result.nodes.map((n) => [n.id, n.status]),
    [
      ['prep', 'succeeded'],
      ['train', 'succeeded'],
      ['report', 'succeeded'],
    ],
  );
  assert.deepEqual(await counts(countFile), { prep: 1, train: 2, report: 1 });
  assert.equal(result.nodes.find((n) => n.id === 'train')?.attempts, 2);

  const history = await handle.fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
});
