import { inArray, sql } from 'drizzle-orm';
import { compile, pipeline } from '../../dsl';
import { openStore, SYSTEM } from '../../store';
import { runs } from '../../store/schema/runs';
import { defineStep } from '../../dsl';
import { z } from 'zod';

// The console's run list at 10,000 runs: the first page and the last page of 50, newest first, by
// the store's keyset query (runs.pageRuns, which also reads who started each run), against a
// floor measured in the same run: fetching the same 50 rows by primary key.
//   npx tsx bench/console/runs-page.ts          PGlite in memory
//   DATABASE_URL=postgres://… npx tsx bench/console/runs-page.ts

const RUNS = Number(process.env.RUNS ?? 10_000);
const PAGE = 50;
const REPS = Number(process.env.REPS ?? 30);

const noop = defineStep({ name: 'bench.noop', version: '1', input: z.object({}), output: z.object({}) });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function time(work: () => Promise<unknown>): Promise<number> {
  await work();
  const samples = [];
  for (let i = 0; i < REPS; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const store = await openStore(process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dir: 'memory://' });
try {
  const plan = compile(pipeline({ name: `bench-console-${Date.now()}` }, (p) => p.step(noop, {})));
  await store.runs.recordPlan(SYSTEM, plan);
  const t0 = Date.now() - RUNS * 1000;
  const rows = Array.from({ length: RUNS }, (_, i) => ({
    id: `${plan.name}-${i}`,
    workflowId: `${plan.name}-${i}`,
    pipelineName: plan.name,
    planHash: plan.hash,
    status: 'succeeded' as const,
    startedAt: new Date(t0 + i * 1000),
  }));
  for (let i = 0; i < rows.length; i += 1000) await store.db.insert(runs).values(rows.slice(i, i + 1000));
  await store.db.execute(sql`analyze runs`);

  const pages = [await store.runs.pageRuns(SYSTEM, { limit: PAGE })];
  while (pages.length * PAGE < RUNS) {
    const last = pages.at(-1)!.at(-1)!;
    pages.push(
      await store.runs.pageRuns(SYSTEM, { limit: PAGE, before: { startedAt: last.startedAt, runId: last.id } }),
    );
  }
  const lastPage = pages.at(-1)!;
  const beforeLast = pages.at(-2)!.at(-1)!;
  const first = await time(() => store.runs.pageRuns(SYSTEM, { limit: PAGE }));
  const deep = await time(() =>
    store.runs.pageRuns(SYSTEM, { limit: PAGE, before: { startedAt: beforeLast.startedAt, runId: beforeLast.id } }),
  );
  const ids = lastPage.map((r) => r.id);
  const floor = await time(() => store.db.select().from(runs).where(inArray(runs.id, ids)));
  console.log(`store: ${store.driver}; ${RUNS} runs, pages of ${PAGE}, median of ${REPS}`);
  console.log(`floor (same ${PAGE} rows by primary key): ${floor.toFixed(2)} ms`);
  console.log(`first page: ${first.toFixed(2)} ms (${(first / floor).toFixed(2)}x the floor)`);
  console.log(`page ${pages.length}: ${deep.toFixed(2)} ms (${(deep / floor).toFixed(2)}x the floor)`);
  await store.db.delete(runs).where(sql`${runs.pipelineName} = ${plan.name}`);
} finally {
  await store.close();
}
