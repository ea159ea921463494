import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { Row } from '../../activities/common/dataset/dataset';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { retrainWorkflowId } from '../../activities/monitor/monitor';
import { createMonitor, planMonitor, runMonitorWindow } from '../../cli/monitors';
import { compile } from '../../dsl';
import { openStore, SYSTEM, type Store } from '../../store';
import { runPipeline } from '../../workflows';
import train from '../fixtures/monitor-pipeline';
import { postgres, type TestPostgres } from '../support/postgres';
import { testContext } from '../support/step-context';
import { temporal, type TestTemporal } from '../support/temporal';

// A monitor's worker SIGKILLed mid-window: the window's activity is retried on another worker once
// its heartbeats stop, the measured report is kept once, and the drift episode gets one alert (the
// webhook may see the POST again, under the same idempotency key) and one retraining run.

let server: TestTemporal;
let database: TestPostgres;
let store: Store;
let dir: string;
const workers: ChildProcess[] = [];
const taskQueue = `monitor-kill-${randomUUID()}`;
const SHIFTED = { credit_amount: 3, duration: 2, age: 1.5, installment_commitment: 2 } as const;

function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, '../fixtures/worker-process.ts'),
      server.address,
      taskQueue,
      join(dir, 'artifacts'),
      database.url,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  workers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
  });
}

before(async () => {
  [server, database] = await Promise.all([temporal(), postgres()]);
  store = await openStore({ url: database.url });
  dir = await mkdtemp(join(tmpdir(), 'kiln-monitor-kill-'));
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await store?.close();
  await Promise.all([server?.stop(), database?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

it('keeps one report and takes each action once when the worker is SIGKILLed during the window', async () => {
  let worker = await startWorker();
  const trained = await server.client.workflow.execute(runPipeline, {
    taskQueue,
    workflowId: `monitored-${randomUUID()}`,
    args: [{ plan: compile(train), params: { epochs: 5 }, options: {} }],
  });
  const { version } = trained.output as { version: number };
  await store.registry.promote(SYSTEM, 'credit-risk', version, 'production');

  // Held-out rows with four features multiplied: a window that drifts.
  const ctx = await testContext();
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const rows = (await loadDataset(ctx.artifacts, split.test)).rows.map(({ class: _label, ...rest }: Row) => ({
    ...rest,
    ...Object.fromEntries(Object.entries(SHIFTED).map(([k, f]) => [k, Math.round(Number(rest[k]) * f)])),
  }));
  await ctx.dispose();
  const start = new Date();
  const at = new Date(start.getTime() + 1);
  await store.serving.recordPredictions(
    SYSTEM,
    rows.map((features, i) => ({
      requestId: `r-${i}`,
      rowIndex: 0,
      model: 'credit-risk',
      version,
      route: 'current' as const,
      served: true,
      at,
      features,
      probabilities: [0.7, 0.3],
      label: 'good',
      latencyMs: 2,
    })),
  );
  const window = { start, end: new Date(at.getTime() + 1) };

  // The first POST is held until the worker is dead; later ones are answered.
  const posts: Array<{ key: string; report: string }> = [];
  let held: ServerResponse | undefined;
  let firstPost!: () => void;
  const posted = new Promise<void>((r) => (firstPost = r));
  const hook = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text) as { report: { id: string } };
      posts.push({ key: String(request.headers['idempotency-key']), report: body.report.id });
      if (posts.length === 1) {
        held = response;
        firstPost();
      } else response.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

  const { principal: operator } = await store.access.createToken(SYSTEM, { name: 'olga', role: 'operator' });
  const policyFile = join(dir, 'policy.json');
  await writeFile(
    policyFile,
    JSON.stringify({
      minRows: 100,
      driftShare: 0.15,
      actions: {
        alert: { webhook: url },
        retrain: { pipeline: 'test/fixtures/monitor-pipeline.ts', params: { epochs: 1 } },
      },
    }),
  );
  const name = `kill-${randomUUID().slice(0, 6)}`;
  const request = { target: 'credit-risk@production', name, policyFile, paused: true };
  await createMonitor(store, server.client, taskQueue, operator, await planMonitor(store, operator, request));

  const result = runMonitorWindow(store, server.client, taskQueue, operator, name, window);
  await posted;
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));
  held!.destroy();
  worker = await startWorker();
  const { report, actions } = await result;

  assert.equal(report.drifted, true);
  assert.deepEqual(
    actions.map((a) => [a.kind, a.outcome]),
    [
      ['alert', 'done'],
      ['retrain', 'done'],
    ],
  );
  const reports = await store.monitoring.listReports(SYSTEM, name, { since: new Date(0) });
  assert.equal(reports.length, 1, 'the window is reported once');
  assert.equal(reports[0]!.id, report.id);
  assert.ok(posts.length >= 2, 'the alert was sent again after the kill');
  assert.deepEqual(new Set(posts.map((p) => `${p.key} ${p.report}`)).size, 1, 'one idempotency key, one report');
  for (const action of ['monitor.alert', 'monitor.retrain'])
    assert.equal((await store.audit.listAudit(SYSTEM, { subject: `monitor:${name}`, action })).length, 1, action);
  const retrain = await server.client.workflow.getHandle(retrainWorkflowId(name, report.episode!)).describe();
  assert.equal(retrain.type, 'runPipeline');
  hook.close();
});
