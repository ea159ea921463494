import { randomUUID } from 'node:crypto';
import { openStore } from '../../store';
import { SYSTEM } from '../../store/access';
import { startPostgres } from '../../store/postgres-server';
import { startRun } from '../../test/support/store-fixtures';
import { load, machine } from '../data/machine';

// What recording one quick step costs the store, against its floor in the same run: the same row
// inserted by one hand-written parameterized statement on the same connection, without Kiln's
// store API or drizzle's query building. Median of the rounds; PGlite in memory, or a throwaway
// PostgreSQL server with BENCH_STORE=postgres.
// Usage: npx tsx bench/overhead/store-writes.ts [CALLS=1000 ROUNDS=5 BENCH_STORE=postgres]
const CALLS = Number(process.env.CALLS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

const postgres = process.env.BENCH_STORE === 'postgres' ? await startPostgres() : undefined;
const store = await openStore(postgres ? { url: postgres.url } : { dir: 'memory://' });
const runId = `bench-${randomUUID()}`;
await startRun(store, runId);
const step = { name: 'test.noop', version: '1' };
let node = 0;

const viaStore = () => {
  const nodeId = `n${node++}`;
  return store.steps.recordStepRan(SYSTEM, {
    start: { runId, nodeId, step, attempt: 1, startedAt: new Date() },
    finish: { runId, nodeId, status: 'succeeded', attempt: 1, output: { ok: true } },
  });
};
// The driver's own client (PGlite, or node-postgres' pool): both take a statement and its values.
const client = (store.db as unknown as { $client: { query(text: string, values: unknown[]): Promise<unknown> } })
  .$client;
const floor = () =>
  client.query(
    `insert into step_executions (id, run_id, node_id, step_name, step_version, status, attempts, output,
      started_at, attempt_started_at, finished_at)
    values ($1, $2, $3, $4, $5, 'succeeded', 1, $6::jsonb, now(), now(), now())`,
    [randomUUID(), runId, `n${node++}`, step.name, step.version, JSON.stringify({ ok: true })],
  );

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const perCall = async (write: () => Promise<unknown>) => {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await write();
  return (performance.now() - started) / CALLS;
};

console.log(`${machine()}; store: ${store.driver}; load average at start: ${load()}`);
await perCall(viaStore); // warm-up: the JIT, PGlite's caches
await perCall(floor);
const kiln: number[] = [];
const bare: number[] = [];
// Alternated, so that drift in the machine's load falls on both.
for (let r = 0; r < ROUNDS; r++) {
  kiln.push(await perCall(viaStore));
  bare.push(await perCall(floor));
}
const [k, b] = [median(kiln), median(bare)];
console.log('| write | ms/call | floor ms/call | ratio |');
console.log('|---|---:|---:|---:|');
console.log(`| a quick step's record (recordStepRan) | ${k.toFixed(3)} | ${b.toFixed(3)} | ${(k / b).toFixed(2)}x |`);
console.log(`load average at end: ${load()}`);
await store.close();
await postgres?.stop();
