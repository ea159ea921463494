import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { literal, withDuckdb } from '../../activities/common/dataset/duckdb';
import { generateCsv } from './generate';
import { load, machine } from './machine';

// Where data.readCsv's time goes at a given size: DuckDB parsing every column of the generated CSV
// alone, against the same parse written to Parquet as Kiln writes datasets (version 2 pages, LZ4).
// Median of the repeats.
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

console.log(`${machine()}; load average at start: ${load()}`);
const times = await withDuckdb(async (connection) => {
  const parse: number[] = [];
  const write: number[] = [];
  for (let i = 0; i < repeat; i++) {
    let t0 = performance.now();
    // Every column is aggregated: DuckDB converts only the columns a query reads.
    await connection.run(
      `SELECT ${Object.keys(types)
        .map((c) => `max(${c})`)
        .join(', ')} FROM ${source}`,
    );
    parse.push(performance.now() - t0);
    t0 = performance.now();
    await connection.run(
      `COPY (SELECT * REPLACE (CAST(c AS BIGINT) AS c, CAST(g AS BIGINT) AS g) FROM ${source}) TO ${literal(join(dir, 'out.parquet'))} (FORMAT parquet, COMPRESSION lz4, PARQUET_VERSION v2)`,
    );
    write.push(performance.now() - t0);
  }
  return { parse: median(parse), write: median(write) };
});
console.log(`| rows | parse only ms | parse and write Parquet ms |`);
console.log(`|---:|---:|---:|`);
console.log(`| ${rows.toLocaleString('en')} | ${times.parse.toFixed(0)} | ${times.write.toFixed(0)} |`);
console.log(`load average at end: ${load()}`);
await rm(dir, { recursive: true, force: true });
