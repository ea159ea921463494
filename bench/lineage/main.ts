// Lineage query benchmark on PostgreSQL: generates a graph of ~1,000,000 lineage edges, then
// times store.lineage.upstream() of a model version (the query behind `kiln lineage model@version`).
//   npx tsx bench/lineage/main.ts [--edges 1000000] [--queries 200] [--runs-per-family 20] [--url postgres://...] [--reuse]
// Without --url (or $KILN_BENCH_DATABASE_URL) it starts a throwaway server and removes it after.
// --reuse measures a graph that an earlier run left in the database at --url instead of refusing it.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { SYSTEM } from '../../store/access';
import { openStore, type Store } from '../../store/db';
import { startPostgres } from '../../store/postgres-server';
import { datasetVersion, familyModel, generate, shapeFor } from './generate';

const { values: args } = parseArgs({
  options: {
    edges: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
    'runs-per-family': { type: 'string', default: '20' },
    url: { type: 'string' },
    json: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
  },
});

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function measure(
  name: string,
  count: number,
  query: (i: number) => Promise<{ nodes: unknown[]; edges: unknown[] }>,
) {
  for (let i = 0; i < Math.min(20, count); i++) await query(-1 - i);
  const times: number[] = [];
  let nodes = 0;
  let edges = 0;
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const graph = await query(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    nodes += graph.nodes.length;
    edges += graph.edges.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    name,
    queries: count,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: sorted.at(-1)!,
    meanNodes: nodes / count,
    meanEdges: edges / count,
  };
}

async function main() {
  const edgesWanted = Number(args.edges);
  const queries = Number(args.queries);
  let shape = shapeFor(edgesWanted, Number(args['runs-per-family']));
  const given = args.url ?? process.env.KILN_BENCH_DATABASE_URL;
  const server = given ? undefined : await startPostgres({ database: 'kiln_bench' });
  const url = given ?? server!.url;
  let store: Store | undefined;
  const client = new pg.Client({ connectionString: url });
  try {
    store = await openStore({ url });
    await client.connect();
    const {
      rows: [existing],
    } = await client.query('select count(*)::int as n from lineage_edges');
    let edges = existing.n as number;
    let generationSeconds = 0;
    if (edges > 0 && args.reuse) {
      const {
        rows: [found],
      } = await client.query(
        `select count(distinct m.id)::int as families, max(v.version)::int as runs from models m join model_versions v on v.model_id = m.id where m.name like 'bench-model-%'`,
      );
      shape = { families: found.families, runsPerFamily: found.runs };
    } else if (edges > 0) {
      throw new Error(
        `lineage_edges at ${url} already has ${edges} rows; give an empty database, or --reuse to measure the graph there`,
      );
    } else {
      const t0 = Date.now();
      ({ edges } = await generate(client, shape, (f) => {
        if (!args.json) process.stderr.write(`\rgenerating: ${f}/${shape.families} families`);
      }));
      generationSeconds = (Date.now() - t0) / 1000;
      if (!args.json) process.stderr.write('\n');
    }
    const { rows: sizes } =
      await client.query(`select relname as table, n_live_tup::bigint as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
      from pg_stat_user_tables where relname in ('lineage_edges', 'step_executions', 'artifacts', 'runs', 'model_versions') order by relname`);
    const {
      rows: [version],
    } = await client.query('show server_version');

    const random = mulberry32(42);
    const pick = () => ({
      f: Math.floor(random() * shape.families),
      k: 1 + Math.floor(random() * shape.runsPerFamily),
    });
    const s = store;
    const results = [
      await measure('upstream(model@version), random versions', queries, async () => {
        const { f, k } = pick();
        return s.lineage.upstream(SYSTEM, { model: familyModel(f), version: k });
      }),
      await measure(
        `upstream(model@version), newest version (${shape.runsPerFamily} dataset versions deep)`,
        queries,
        async () => {
          const { f } = pick();
          return s.lineage.upstream(SYSTEM, { model: familyModel(f), version: shape.runsPerFamily });
        },
      ),
      await measure('downstream(first dataset version of a family)', Math.max(1, Math.floor(queries / 4)), async () => {
        const { f } = pick();
        return s.lineage.downstream(SYSTEM, { artifact: datasetVersion(f, 1) });
      }),
    ];

    const report = { postgres: version.server_version, edges, shape, generationSeconds, tables: sizes, results };
    if (args.json) {
      console.log(JSON.stringify(report));
      return;
    }
    const generated = generationSeconds ? `generated in ${generationSeconds.toFixed(1)} s` : 'reused';
    console.log(
      `PostgreSQL ${version.server_version}; ${edges.toLocaleString('en')} lineage edges (${shape.families} families x ${shape.runsPerFamily} runs x 6 steps), ${generated}`,
    );
    for (const t of sizes)
      console.log(`  ${t.table.padEnd(16)} ${Number(t.rows).toLocaleString('en').padStart(10)} rows  ${t.size}`);
    console.log('');
    console.log(
      'query                                                           n     p50 ms  p90 ms  p99 ms  max ms  nodes  edges',
    );
    for (const r of results) {
      console.log(
        `${r.name.padEnd(62)} ${String(r.queries).padStart(4)}  ${r.p50.toFixed(2).padStart(7)} ${r.p90.toFixed(2).padStart(7)} ${r.p99.toFixed(2).padStart(7)} ${r.max.toFixed(2).padStart(7)} ${r.meanNodes.toFixed(0).padStart(6)} ${r.meanEdges.toFixed(0).padStart(6)}`,
      );
    }
    const upstreamP99 = results[0]!.p99;
    console.log(
      `\ntarget: p99 of upstream(model@version) < 20 ms: ${upstreamP99 < 20 ? 'met' : 'MISSED'} (${upstreamP99.toFixed(2)} ms)`,
    );
  } finally {
    await client.end().catch(() => undefined);
    await store?.close();
    await server?.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
