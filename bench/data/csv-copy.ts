import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { literal, withDuckdb } from '../../activities/common/dataset/duckdb';
import { WRITE_OPTIONS } from '../../activities/common/dataset/parquet';
import { generateCsv } from './generate';
import { load, machine } from './machine';

// Where data.readCsv's time goes at a given size: DuckDB parsing every column of the generated CSV
// alone, against the same parse written to Parquet as Kiln writes datasets (WRITE_OPTIONS),
// and the parse on one thread: its CPU is what parsing costs, whatever the parallelism. Median of
// the repeats.
// Usage: npx tsx bench/data/csv-copy.ts [--rows 500000] [--repeat 5]
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const rows = arg('rows', 500_000);
const repeat = arg('repeat', 5);

const dir = await mkdtemp(join(tmpdir(), 'kiln-csv-copy-'));
const path = join(dir, 'data.csv');
await generateCsv(rows, path);
// The generator's columns as readCsv types them: integers read as text, then cast.
const types = {
  a: 'DOUBLE',
  b: 'DOUBLE',
  c: 'VARCHAR',
  d: 'DOUBLE',
  e: 'DOUBLE',
  f: 'DOUBLE',
  g: 'VARCHAR',
  h: 'DOUBLE',
  label: 'VARCHAR',
};
const spec = Object.entries(types)
  .map(([name, type]) => `${literal(name)}: ${literal(type)}`)
  .join(', ');
const source = `read_csv(${literal(path)}, header=true, auto_detect=false, strict_mode=true, columns={${spec}})`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const maxes = Object.keys(types)
  .map((c) => `max(${c})`)
  .join(', ');

console.log(`${machine()}; load average at start: ${load()}`);
const timings = await withDuckdb(async (connection) => {
  /** Median wall and CPU milliseconds of `sql` (the CPU is every thread of this process, DuckDB's among them). */
  const timed = async (sql: string) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await connection.run(sql);
      wall.push(performance.now() - started);
      const used = process.cpuUsage(cpuBefore);
      cpu.push((used.user + used.system) / 1000);
    }
    return { wall: median(wall), cpu: median(cpu) };
  };
  const threads = Number((await connection.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
  // Every column is aggregated: DuckDB converts only the columns a query reads.
  const parse = `SELECT ${maxes} FROM ${source}`;
  const write = `COPY (SELECT * REPLACE (CAST(c AS BIGINT) AS c, CAST(g AS BIGINT) AS g) FROM ${source}) TO ${literal(join(dir, 'out.parquet'))} (${WRITE_OPTIONS})`;
  const measured = [
    [`parse, ${threads} threads`, await timed(parse)],
    [`parse and write Parquet, ${threads} threads`, await timed(write)],
  ] as const;
  await connection.run('SET threads = 1');
  try {
    return [...measured, ['parse, 1 thread', await timed(parse)] as const];
  } finally {
    await connection.run('RESET threads');
  }
});
console.log(`${rows.toLocaleString('en')} rows`);
console.log(`| what | wall ms | CPU ms |`);
console.log(`|---|---:|---:|`);
for (const [what, { wall, cpu }] of timings) console.log(`| ${what} | ${wall.toFixed(0)} | ${cpu.toFixed(0)} |`);
console.log(`load average at end: ${load()}`);
await rm(dir, { recursive: true, force: true });
