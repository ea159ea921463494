import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { builtinSteps } from '../../activities';
import { fitFeatures, readCsv, trainClassifier } from '../../activities/steps';
import { pendingProgress } from '../../cli/follow';
import { compile, pipeline } from '../../dsl';
import { createKilnWorker } from '../../workers/create-worker';
import { runPipeline, statusQuery } from '../../workflows';
import { temporal, type TestTemporal } from '../support/temporal';

// The worker runs in this process, so a step that held the event loop would hold the test's
// queries too: what is measured is exactly what `kiln status` sees.

/** The bound: a status query answers within a second while a long training step runs. */
const QUERY_BOUND_MS = 1000;
/** "Cancellation stops it within a few seconds": heartbeats go out at least every 3 s. */
const CANCEL_BOUND_MS = 10_000;

const germanCredit = join(import.meta.dirname, '../../examples/data/german-credit.csv');

// Small batches and far more epochs than the test waits for: training runs until cancelled.
const endless = pipeline({ name: 'endless-training' }, (p) => {
  const raw = p.step(readCsv, { path: germanCredit, label: 'class' });
  const features = p.step(fitFeatures, { dataset: raw.dataset, label: 'class' });
  p.step(
    trainClassifier,
    {
      train: raw.dataset,
      transform: features.transform,
      label: 'class',
      architecture: 'mlp',
      hidden: [32],
      epochs: 1_000_000,
      learningRate: 0.01,
      batchSize: 16,
      seed: 1,
    },
    { id: 'train' },
  );
});

let t: TestTemporal;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `responsive-${randomUUID()}`;

before(async () => {
  t = await temporal();
  connection = await NativeConnection.connect({ address: t.address });
  worker = await createKilnWorker({
    connection,
    taskQueue,
    steps: builtinSteps,
    artifactsDir: await mkdtemp(join(tmpdir(), 'kiln-responsive-')),
    tracing: false,
  });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await connection?.close();
  await t?.stop();
});

const epochOf = (progress: string | undefined) => Number(/epoch (\d+)/.exec(progress ?? '')?.[1] ?? 0);

it('answers status queries within a second, keeps heartbeating, and stops on cancellation, while a long training step runs', async () => {
  const handle = await t.client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `responsive-${randomUUID()}`,
    args: [{ plan: compile(endless) }],
  });
  const deadline = Date.now() + 60_000;
  let firstEpoch = 0;
  while (!(firstEpoch = epochOf((await pendingProgress(handle)).train))) {
    assert.ok(Date.now() < deadline, 'training did not report an epoch within 60 s');
    await new Promise((r) => setTimeout(r, 250));
  }

  const latencies: number[] = [];
  for (let i = 0; i < 8; i++) {
    const started = performance.now();
    // Bounded, so that a worker that cannot answer fails the test rather than hanging it.
    const status = await t.connection.withDeadline(Date.now() + 5 * QUERY_BOUND_MS, () => handle.query(statusQuery));
    latencies.push(performance.now() - started);
    assert.equal(status.nodes.find((n) => n.id === 'train')?.status, 'running');
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(
    Math.max(...latencies) < QUERY_BOUND_MS,
    `status queries took ${latencies.map((ms) => ms.toFixed(0)).join(', ')} ms`,
  );

  // Heartbeats reach the server (every 3 s, the worker's throttle) while the queries are answered.
  const { pendingActivities } = (await handle.describe()).raw;
  const lastBeat = Number(pendingActivities?.[0]?.lastHeartbeatTime?.seconds ?? 0) * 1000;
  assert.ok(Date.now() - lastBeat < 5000, `the last heartbeat is ${Date.now() - lastBeat} ms old`);
  const moving = Date.now();
  while (epochOf((await pendingProgress(handle)).train) <= firstEpoch) {
    assert.ok(Date.now() - moving < 10_000, `no epoch after ${firstEpoch} reached the server within 10 s`);
    await new Promise((r) => setTimeout(r, 250));
  }

  const cancelled = Date.now();
  await handle.cancel();
  while (worker.getStatus().numInFlightActivities > 0) {
    assert.ok(Date.now() - cancelled < CANCEL_BOUND_MS, 'the training step still runs 10 s after the cancellation');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
});
