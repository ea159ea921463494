import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fitFeatures, readCsv, trainClassifier } from '../../activities/steps';
import { compile, pipeline } from '../../dsl';
import { runPipeline } from '../../workflows';
import { temporal, type TestTemporal } from '../support/temporal';
import { eventually, pidOf, workerProcesses } from './worker-processes';

// Issue 11 item 13: after a worker crash, a training step waited out a 2-minute heartbeat
// timeout before another worker took it. Training now runs on a pool thread while the main
// thread heartbeats, so the timeout is 20 s: the step must run again within 30 s of the crash.

const RECOVERY_BOUND_MS = 30_000;

const germanCredit = join(import.meta.dirname, '../../examples/data/german-credit.csv');
const trained = pipeline({ name: 'recovery' }, (p) => {
  const raw = p.step(readCsv, { path: germanCredit, label: 'class' });
  const features = p.step(fitFeatures, { dataset: raw.dataset, label: 'class' });
  p.step(
    trainClassifier,
    {
      train: raw.dataset,
      transform: features.transform,
      label: 'class',
      architecture: 'mlp',
      hidden: [16],
      epochs: 8,
      learningRate: 0.01,
      batchSize: 16,
      seed: 1,
    },
    { id: 'train' },
  );
});

let t: TestTemporal;
let workers: ReturnType<typeof workerProcesses>;
const taskQueue = `recovery-${randomUUID()}`;
before(async () => {
  t = await temporal();
  workers = workerProcesses({
    address: () => t.address,
    taskQueue,
    artifactsDir: await mkdtemp(join(tmpdir(), 'kiln-recovery-')),
  });
});
after(async () => {
  await workers?.killAll();
  await t?.stop();
});

it('runs a training step again on another worker within 30 s of its worker being SIGKILLed, and the run completes', async (ctx) => {
  const t0 = Date.now();
  const [a, b] = await Promise.all([workers.start(), workers.start()]);
  ctx.diagnostic(`workers ready in ${Date.now() - t0} ms`);
  const handle = await t.client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `recovery-${randomUUID()}`,
    args: [{ plan: compile(trained) }],
  });
  const training = () => handle.describe().then((d) => d.raw.pendingActivities?.find((p) => p.activityId === 'train'));
  // Killed once an epoch has been reported: the training is under way, not starting.
  const first = await eventually('the first epoch', async () => {
    const pending = await training();
    return pending?.heartbeatDetails?.payloads?.length ? pending : undefined;
  });
  ctx.diagnostic(`training under way after ${Date.now() - t0} ms`);
  const victim = [a, b].find((w) => w.pid === pidOf(first.lastWorkerIdentity));
  assert.ok(victim, `the training runs on neither worker: ${first.lastWorkerIdentity}`);
  const survivor = victim === a ? b : a;

  const crashed = Date.now();
  await workers.kill(victim);
  await eventually(
    'the training step running again on the surviving worker',
    async () => {
      const pending = await training();
      const again = pending && (pending.attempt ?? 1) > 1 && pidOf(pending.lastWorkerIdentity) === survivor.pid;
      return again ? pending : undefined;
    },
    RECOVERY_BOUND_MS,
  );
  const recoveredMs = Date.now() - crashed;
  ctx.diagnostic(`recovered in ${recoveredMs} ms`);
  assert.ok(recoveredMs < RECOVERY_BOUND_MS, `recovery took ${recoveredMs} ms`);

  const result = await handle.result();
  assert.equal(result.nodes.find((n) => n.id === 'train')?.status, 'succeeded');
  assert.equal(result.nodes.find((n) => n.id === 'train')?.attempts, 2);
});
