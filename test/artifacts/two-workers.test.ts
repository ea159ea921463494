import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { compile } from '../../dsl';
import { SYSTEM, type Store } from '../../store';
import { runPipeline } from '../../workflows';
import { testBackends, type TestBackend } from '../support/backends';
import { CREDIT_NODES, creditPipeline } from '../support/credit-pipeline';
import { startS3, type TestS3 } from '../support/s3';
import { temporal, type TestTemporal } from '../support/temporal';

const RUNS = Number(process.env.KILN_FLEET_RUNS ?? 50);
const taskQueue = `fleet-${randomUUID()}`;
const trainQueue = `train-${randomUUID()}`;

const credit = creditPipeline('fleet-credit', 'examples/data/german-credit.csv', trainQueue);
const NODES = CREDIT_NODES;

let t: TestTemporal;
let s3: TestS3;
let backend: TestBackend;
let store: Store;
let client: Client;
let scratch: string;
const fleet: ChildProcess[] = [];

/** A worker process with a home (and so an artifact cache) of its own, as on another machine. */
function startWorker(name: string, url: string, train: boolean): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fleet-worker.ts'),
      t.address,
      taskQueue,
      train ? trainQueue : '',
      url,
    ],
    {
      env: {
        ...process.env,
        ...s3.env,
        KILN_ARTIFACTS: `s3://${s3.bucket}/fleet`,
        KILN_HOME: join(scratch, name),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  fleet.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code, signal) => reject(new Error(`worker ${name} exited early with ${code ?? signal}`)));
  });
}

before(async () => {
  t = await temporal();
  s3 = await startS3();
  backend = testBackends().find((b) => b.name === 'postgres')!;
  const url = await backend.url!();
  store = await backend.open();
  scratch = await mkdtemp(join(tmpdir(), 'kiln-fleet-'));
  client = new Client({ connection: await Connection.connect({ address: t.address }) });
  await Promise.all([startWorker('a', url, false), startWorker('b', url, true)]);
});
after(async () => {
  await Promise.all(
    fleet.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }),
  );
  await client?.connection.close();
  await backend?.close();
  await s3?.stop();
  await t?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it(`runs ${RUNS} concurrent runs on two worker processes sharing only PostgreSQL, Temporal and the object store`, async () => {
  const start = performance.now();
  const handles = await Promise.all(
    Array.from({ length: RUNS }, () =>
      client.workflow.start(runPipeline, {
        taskQueue,
        workflowId: `${credit.name}-${randomUUID()}`,
        args: [{ plan: compile(credit), params: {}, options: { cache: false } }],
      }),
    ),
  );
  const results = await Promise.all(handles.map((h) => h.result()));
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `fleet: ${RUNS} runs of ${NODES.length} steps in ${seconds.toFixed(1)} s: ${(RUNS / seconds).toFixed(2)} runs/s`,
  );

  const [auc] = results.map((r) => (r.output as { rocAuc: number }).rocAuc);
  for (const result of results) {
    assert.ok(
      result.nodes.every((n) => n.status === 'succeeded'),
      JSON.stringify(result.nodes),
    );
    assert.equal((result.output as { rocAuc: number }).rocAuc, auc, 'every run trains the same model');
  }
  const workflowWorkers = new Set<string>();
  for (const handle of handles) {
    const steps = await store.steps.listSteps(SYSTEM, handle.workflowId);
    assert.deepEqual(
      steps.map((s) => s.nodeId).sort(),
      [...NODES].sort(),
      `steps of ${handle.workflowId} recorded once each`,
    );
    assert.ok(steps.every((s) => s.status === 'succeeded'));
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.flatMap((e) => {
      const a = e.activityTaskScheduledEventAttributes;
      return a ? [{ id: Number(e.eventId), type: a.activityType?.name, queue: a.taskQueue?.name }] : [];
    });
    const trainEvent = scheduled.find((s) => s.queue === trainQueue);
    assert.ok(
      trainEvent,
      `the train step of ${handle.workflowId} ran on the train queue: ${JSON.stringify(scheduled)}`,
    );
    assert.ok(scheduled.filter((s) => s.queue === trainQueue).length === 1);
    const trainer = events.find(
      (e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === trainEvent.id,
    )?.activityTaskStartedEventAttributes?.identity;
    assert.equal(Number(trainer?.split('@')[0]), fleet[1]!.pid, 'worker b alone serves the train queue');
    for (const e of events)
      if (e.workflowTaskStartedEventAttributes?.identity)
        workflowWorkers.add(e.workflowTaskStartedEventAttributes.identity);
  }
  // Both processes took part: the runs spread over them, not only the training.
  assert.deepEqual(new Set([...workflowWorkers].map((w) => Number(w.split('@')[0]))), new Set(fleet.map((c) => c.pid)));
});
