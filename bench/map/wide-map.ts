import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { compile, DEFAULT_MAP_PARALLELISM, pipeline } from '../../dsl';
import { startDevServer } from '../../cli/temporal-server';
import { createKilnWorker } from '../../workers/create-worker';
import { runPipeline } from '../../workflows';
import { add, list, testSteps } from '../../test/fixtures/steps';
import { historyChain, type Generation } from '../../test/support/history-chain';
import { handMap } from './workflows';

// A map of ITEMS trivial steps through Kiln (default parallelism, results spilled to the artifact
// store, continue-as-new) against the same map written by hand as one Temporal workflow with as
// many lanes, on the same dev server in the same run. Prints wall time per item, the ratio, and
// the history each keeps.
const ITEMS = Number(process.env.ITEMS ?? 10_000);

const wide = pipeline({ name: 'bench-wide-map' }, (p) => {
  const items = p.step(list, { n: ITEMS });
  return p.map(items.items, (item) => p.step(add, { a: item.x, b: 1 }).sum, { id: 'items' });
});

const server = process.env.TEMPORAL_ADDRESS
  ? { address: process.env.TEMPORAL_ADDRESS, stop: async () => {} }
  : await startDevServer({ headless: true, dbFile: ':memory:' });
const connection = await NativeConnection.connect({ address: server.address });
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
const kilnQueue = `bench-kiln-${randomUUID()}`;
const handQueue = `bench-hand-${randomUUID()}`;
const kilnWorker = await createKilnWorker({
  connection,
  taskQueue: kilnQueue,
  steps: testSteps,
  artifactsDir: await mkdtemp(join(tmpdir(), 'kiln-bench-')),
});
const handWorker = await Worker.create({
  connection,
  taskQueue: handQueue,
  workflowsPath: new URL('./workflows.ts', import.meta.url).pathname,
  activities: { add: async ({ a, b }: { a: number; b: number }) => ({ sum: a + b }) },
});

const summary = (chain: Generation[]) => ({
  generations: chain.length,
  maxEvents: Math.max(...chain.map((g) => g.events)),
  maxMb: Math.max(...chain.map((g) => g.bytes)) / 1024 / 1024,
  maxInputKb: Math.max(...chain.map((g) => g.inputBytes)) / 1024,
  /** Time spent inside the runs, and from each run's start to its first scheduled step. */
  startupS: chain.reduce((sum, g) => sum + (g.startupMs ?? 0), 0) / 1000,
  inS: chain.reduce((sum, g) => sum + g.ms, 0) / 1000,
});

await kilnWorker.runUntil(() =>
  handWorker.runUntil(async () => {
    let t0 = performance.now();
    const hand = await client.workflow.start(handMap, {
      taskQueue: handQueue,
      workflowId: `hand-map-${randomUUID()}`,
      args: [ITEMS, DEFAULT_MAP_PARALLELISM],
    });
    const sums = await hand.result();
    const handMs = performance.now() - t0;
    if (sums[ITEMS - 1] !== ITEMS) throw new Error('the hand-written map returned a wrong list');

    t0 = performance.now();
    const kiln = await client.workflow.start(runPipeline, {
      taskQueue: kilnQueue,
      workflowId: `kiln-map-${randomUUID()}`,
      args: [{ plan: compile(wide), options: { cache: false } }],
    });
    await kiln.result();
    const kilnMs = performance.now() - t0;

    const rows = [
      ['hand-written', handMs, summary(await historyChain(client, hand.workflowId, hand.firstExecutionRunId))],
      ['Kiln', kilnMs, summary(await historyChain(client, kiln.workflowId, kiln.firstExecutionRunId))],
    ] as const;
    console.log(`${ITEMS} items, ${DEFAULT_MAP_PARALLELISM} lanes, ${cpus().length} cores`);
    console.log(
      '| map | wall s | ms/item | ratio | generations | s in runs | s to first step | max events | max history MB (JSON) | max input KB |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const [name, ms, s] of rows) {
      console.log(
        `| ${name} | ${(ms / 1000).toFixed(1)} | ${(ms / ITEMS).toFixed(2)} | ${(ms / handMs).toFixed(2)}x | ${s.generations} | ${s.inS.toFixed(1)} | ${s.startupS.toFixed(1)} | ${s.maxEvents} | ${s.maxMb.toFixed(1)} | ${s.maxInputKb.toFixed(1)} |`,
      );
    }
  }),
);
await connection.close();
await client.connection.close();
await server.stop();
