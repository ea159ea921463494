import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { builtinSteps } from '../../activities';
import { fitFeatures, readCsv, trainClassifier } from '../../activities/steps';
import { pendingProgress } from '../../cli/follow';
import { startDevServer } from '../../cli/temporal-server';
import { compile, pipeline } from '../../dsl';
import { createKilnWorker } from '../../workers/create-worker';
import { approveUpdate, runPipeline, statusQuery } from '../../workflows';

// How fast a worker answers `kiln status` while it trains. One run waits at a gate (the floor:
// the same worker, idle), then trains an MLP on German credit until cancelled; status queries
// are timed in both phases, then the time from cancelling the run to the training step ending.
// The worker runs in this process, as the test does. Usage:
//   QUERIES=40 npx tsx bench/workers/responsive.ts   # TEMPORAL_ADDRESS=host:port to reuse a server

const queries = Number(process.env.QUERIES) || 40;
const server = process.env.TEMPORAL_ADDRESS
  ? { address: process.env.TEMPORAL_ADDRESS, stop: async () => {} }
  : await startDevServer({ headless: true, dbFile: ':memory:' });
const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-responsive-'));
const connection = await NativeConnection.connect({ address: server.address });
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
const taskQueue = `bench-responsive-${randomUUID()}`;
const worker = await createKilnWorker({
  connection,
  taskQueue,
  steps: builtinSteps,
  artifactsDir: dir,
  tracing: false,
});
const running = worker.run();

const gated = pipeline({ name: 'bench-responsive' }, (p) => {
  const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
  const features = p.step(fitFeatures, { dataset: raw.dataset, label: 'class' });
  const hold = p.approval('hold', { show: { rows: raw.summary.rows }, timeout: '1h' });
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
    { id: 'train', after: [hold.by] },
  );
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

try {
  const handle = await client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: `bench-responsive-${randomUUID()}`,
    args: [{ plan: compile(gated) }],
  });
  const timeQueries = async () => {
    const ms: number[] = [];
    for (let i = 0; i < queries; i++) {
      const started = performance.now();
      await handle.query(statusQuery);
      ms.push(performance.now() - started);
      await sleep(100);
    }
    return ms.sort((a, b) => a - b);
  };
  while ((await handle.query(statusQuery)).nodes.find((n) => n.id === 'hold')?.status !== 'waiting') await sleep(200);
  const idle = await timeQueries();

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'hold', approved: true, by: 'bench' }] });
  while (!/epoch/.test((await pendingProgress(handle)).train ?? '')) await sleep(200);
  const training = await timeQueries();

  const cancelled = performance.now();
  await handle.cancel();
  while (worker.getStatus().numInFlightActivities > 0) await sleep(20);
  const stopMs = performance.now() - cancelled;

  const row = (name: string, ms: number[]) =>
    `| ${name} | ${quantile(ms, 0.5).toFixed(1)} | ${quantile(ms, 0.95).toFixed(1)} | ${ms.at(-1)!.toFixed(1)} | ${(quantile(ms, 0.5) / quantile(idle, 0.5)).toFixed(2)}x |`;
  console.log(`status queries: ${queries} per phase, 100 ms apart\n`);
  console.log('| worker | p50 ms | p95 ms | max ms | p50 ratio |');
  console.log('|---|---|---|---|---|');
  console.log(row('idle (waiting at a gate): floor', idle));
  console.log(row('training an MLP (pool thread)', training));
  console.log(`\ncancellation to the training step's end: ${(stopMs / 1000).toFixed(2)} s`);
} finally {
  worker.shutdown();
  await running;
  await client.connection.close();
  await connection.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
