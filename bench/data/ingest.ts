// data.readCsv against pandas.read_csv, in one run, on generated files of the shape (8 numeric
// columns and a string label): the floor is pandas parsing the file into memory; Kiln's number is the
// whole step (fingerprint, type inference, checks, the Parquet dataset stored). The CPU seconds (the
// least of the repeats) show the work each does, whatever the load. The row reader (the
// fallback for files DuckDB may read differently) is timed on the smallest file.
// Usage: bash bench/data/run.sh [--rows 500000,2000000] [--repeat 3]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCsvImpl, readCsvRows } from '../../activities/data/read-csv';
import { testContext } from '../../test/support/step-context';
import { generateCsv } from './generate';
import { load, machine } from './machine';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '500000,2000000' },
    repeat: { type: 'string', default: '3' },
    python: { type: 'string', default: join(repo, 'bench/.venv/bin/python') },
  },
});
const sizes = values.rows.split(',').map(Number);
const repeat = Number(values.repeat);
const dir = await mkdtemp(join(tmpdir(), 'kiln-ingest-'));
process.env.KILN_DATA_ROOTS = dir;
const ctx = await testContext();

const best = (xs: number[]) => Math.min(...xs);
const time = async (fn: () => Promise<unknown>) => {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
};
/** Wall and CPU seconds of `fn`; the CPU is every thread of this process, DuckDB's among them. */
const timeWithCpu = async (fn: () => Promise<unknown>) => {
  const cpu = process.cpuUsage();
  const seconds = await time(fn);
  const used = process.cpuUsage(cpu);
  return { seconds, cpu: (used.user + used.system) / 1e6 };
};

console.log(machine());
console.log(`load average at start: ${load()}`);
console.log(
  '| rows | MB | pandas.read_csv s | Kiln data.readCsv s | Kiln / pandas | Kiln rows/s | CPU s, pandas / Kiln | row reader s |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
try {
  for (const [i, rows] of sizes.entries()) {
    const path = join(dir, `${rows}.csv`);
    await generateCsv(rows, path);
    const mb = (await import('node:fs')).statSync(path).size / 1e6;
    // Alternate the two so that load on the machine falls on both.
    const pandas: number[] = [];
    const kiln: number[] = [];
    const pandasCpu: number[] = [];
    const kilnCpu: number[] = [];
    for (let r = 0; r < repeat; r++) {
      const out = execFileSync(values.python, [join(repo, 'bench/data/pandas_read.py'), path, '1'], {
        encoding: 'utf8',
      });
      const read = JSON.parse(out) as { seconds: number[]; cpu: number[] };
      pandas.push(...read.seconds);
      pandasCpu.push(...read.cpu);
      const step = await timeWithCpu(() => readCsvImpl.run({ path, label: 'label' }, ctx));
      kiln.push(step.seconds);
      kilnCpu.push(step.cpu);
    }
    const rowReader = i === 0 ? (await time(() => readCsvRows(ctx, path, { path, label: 'label' }))).toFixed(2) : '';
    const [p, k] = [best(pandas), best(kiln)];
    console.log(
      `| ${rows.toLocaleString('en')} | ${mb.toFixed(0)} | ${p.toFixed(3)} | ${k.toFixed(3)} | ${(k / p).toFixed(2)}x | ${Math.round(rows / k).toLocaleString('en')} | ${best(pandasCpu).toFixed(2)} / ${best(kilnCpu).toFixed(2)} | ${rowReader} |`,
    );
  }
  console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  console.log(`load average at end: ${load()}`);
} finally {
  await ctx.dispose();
  await rm(dir, { recursive: true, force: true });
}
