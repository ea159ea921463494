import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { compile, pipeline } from '../../dsl';
import { startDevServer } from '../../cli/temporal-server';
import { createKilnWorker } from '../../workers/create-worker';
import { runPipeline } from '../../workflows';
import { openStore } from '../../store';
import { startPostgres } from '../../store/postgres-server';
import { noop, testSteps } from '../../test/fixtures/steps';
import { handChain, handFan, handLocalChain } from './workflows';

// Kiln's per-step overhead against hand-written Temporal workflows calling the same no-op
// activity, on the same dev server, in the same run. Prints per-step ms and the ratio.
const N = Number(process.env.STEPS ?? 100);
const REPS = Number(process.env.REPS ?? 5);

const chain = pipeline({ name: 'bench-chain' }, (p) => {
  let last = p.step(noop, {}, { id: 's0' }).ok;
  for (let i = 1; i < N; i++) last = p.step(noop, { after: last }, { id: `s${i}` }).ok;
});
// Light steps run as local activities; the floor is a hand-written chain of local activities.
const lightChain = pipeline({ name: 'bench-light-chain' }, (p) => {
  let last = p.step(noop, {}, { id: 's0', light: true }).ok;
  for (let i = 1; i < N; i++) last = p.step(noop, { after: last }, { id: `s${i}`, light: true }).ok;
});
const fan = pipeline({ name: 'bench-fan' }, (p) => {
  for (let i = 0; i < N; i++) p.step(noop, {}, { id: `s${i}` });
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
  activities: { noop: async () => ({ ok: true }) },
});

const timed = async (start: () => Promise<{ result(): Promise<unknown> }>) => {
  const t0 = performance.now();
  await (await start()).result();
  return performance.now() - t0;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// CASES=fan (or chain, light) runs one of them.
const cases = [
  { name: `chain of ${N}`, kiln: compile(chain), hand: handChain },
  { name: `light chain of ${N}`, kiln: compile(lightChain), hand: handLocalChain },
  { name: `fan-out of ${N}`, kiln: compile(fan), hand: handFan },
].filter((c) => !process.env.CASES || c.name.startsWith(process.env.CASES));

// Optional third column: Kiln recording every run and step into a store: PGlite in memory
// (BENCH_STORE=1), or a throwaway PostgreSQL server on this machine (BENCH_STORE=postgres).
const postgres = process.env.BENCH_STORE === 'postgres' ? await startPostgres() : undefined;
const store = process.env.BENCH_STORE
  ? await openStore(postgres ? { url: postgres.url } : { dir: 'memory://' })
  : undefined;
const recordingQueue = `bench-recording-${randomUUID()}`;
const recordingWorker =
  store &&
  (await createKilnWorker({
    connection,
    taskQueue: recordingQueue,
    steps: testSteps,
    artifactsDir: await mkdtemp(join(tmpdir(), 'kiln-bench-')),
    store,
  }));
const workers = [kilnWorker, handWorker, ...(recordingWorker ? [recordingWorker] : [])];
const running = workers.map((w) => w.run());

console.log(
  `Kiln step overhead, ${REPS} runs each (median), ${cpus().length} cores, ${cpus()[0]?.model}, ${new Date().toISOString().slice(0, 10)}${store ? `, recording into ${store.driver}` : ''}`,
);
console.log(
  'case'.padEnd(20),
  'kiln ms/step'.padStart(13),
  'hand ms/step'.padStart(13),
  'ratio'.padStart(7),
  ...(store ? ['recording ms/step'.padStart(18), 'ratio'.padStart(7)] : []),
);
// BENCH_JSON=path also writes the rows as JSON, for bench/peers to print beside Prefect and Dagster.
const rows: { case: string; kiln: number; hand: number; recording?: number }[] = [];
for (const c of cases) {
  const kilnRun = (taskQueue: string) => () =>
    client.workflow.start(runPipeline, {
      taskQueue,
      workflowId: `bench-${randomUUID()}`,
      args: [{ plan: c.kiln, options: { cache: false } }],
    });
  const runs = [
    kilnRun(kilnQueue),
    () => client.workflow.start(c.hand, { taskQueue: handQueue, workflowId: `bench-${randomUUID()}`, args: [N] }),
    ...(store ? [kilnRun(recordingQueue)] : []),
  ];
  for (const run of runs) await timed(run);
  // Interleaved, so that drift in the machine's load falls on every column alike.
  const times = runs.map(() => [] as number[]);
  for (let i = 0; i < REPS; i++) for (const [j, run] of runs.entries()) times[j]!.push(await timed(run));
  const [k, h, r] = times.map((t) => median(t) / N) as [number, number, number?];
  rows.push({ case: c.name, kiln: k, hand: h, ...(r === undefined ? {} : { recording: r }) });
  console.log(
    c.name.padEnd(20),
    k.toFixed(2).padStart(13),
    h.toFixed(2).padStart(13),
    `${(k / h).toFixed(2)}x`.padStart(7),
    ...(r === undefined ? [] : [r.toFixed(2).padStart(18), `${(r / h).toFixed(2)}x`.padStart(7)]),
  );
}
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify({ steps: N, reps: REPS, rows }));
for (const w of workers) w.shutdown();
await Promise.all(running);
await store?.close();
await postgres?.stop();
await connection.close();
await client.connection.close();
await server.stop();
