// features.fit and the fitted transform applied to a whole dataset, on generated data of the issue's
// shape (8 numeric columns: 6 decimals, 2 integers, about 1% missing; a string label). The dataset
// is written once with writeColumns (seeded) and kept; each timed phase then runs in a child process
// of its own, so that its peak RSS (process.resourceUsage().maxRSS) is that phase's alone.
// Phases: `fit` (features.fit with nothing declared), `fit-declared` (a median impute and quantile
// buckets, which keep a column's values), `rows` (loadDataset + transformRows, what training did)
// and `columns` (loadColumns + transformColumns).
// Usage: npx tsx bench/data/features.ts [--rows 1000000] [--phases fit,fit-declared,rows,columns]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { Cell } from '../../activities/common/dataset/cells';
import { loadColumns, loadDataset, writeColumns, type Column } from '../../activities/common/dataset/dataset';
import { mulberry32 } from '../../activities/common/random';
import { loadTransform, transformRows } from '../../activities/common/model/transform';
import { transformColumns } from '../../activities/common/model/transform-columns';
import { fitFeaturesImpl } from '../../activities/features/fit';
import type { StepContext } from '../../activities/library';
import type { DatasetRef, TransformRef } from '../../activities/refs';
import { benchContext } from './machine';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    phases: { type: 'string', default: 'fit,fit-declared,rows,columns' },
    dir: { type: 'string', default: join(tmpdir(), 'kiln-bench-features') },
    child: { type: 'string' },
  },
});
const rows = Number(args.rows);
const store = join(args.dir, 'artifacts');
const refFile = join(args.dir, `dataset-${rows}.json`);
const seconds = (since: number) => (performance.now() - since) / 1000;

const columns: Column[] = [
  ...['a', 'b', 'd', 'e', 'f', 'h'].map((name) => ({ name, type: 'number' as const })),
  { name: 'c', type: 'integer' },
  { name: 'g', type: 'integer' },
  { name: 'label', type: 'string' },
];

async function generate(artifacts: ArtifactStore): Promise<DatasetRef> {
  const random = mulberry32(7);
  const numbers = columns.slice(0, 8).map(() => new Float64Array(rows));
  const labels = new Array<Cell>(rows);
  const scale = [100, 10, 1, 1e4, 3, 1];
  for (let i = 0; i < rows; i++) {
    const x = random();
    for (let j = 0; j < 6; j++) numbers[j]![i] = (j === 0 ? x : random()) * scale[j]! - (j === 1 ? 5 : 0);
    numbers[6]![i] = Math.floor(random() * 1000);
    numbers[7]![i] = Math.floor(random() * 50);
    for (const column of numbers) if (random() < 0.01) column[i] = Number.NaN;
    labels[i] = x + random() * 0.5 > 0.7 ? 'yes' : 'no';
  }
  return writeColumns(artifacts, columns, [...numbers, labels], rows);
}

async function transformOf(ctx: StepContext, dataset: DatasetRef): Promise<TransformRef> {
  const file = join(args.dir, `transform-${rows}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as TransformRef;
  const { transform } = await fitFeaturesImpl.run({ dataset, label: 'label' }, ctx);
  writeFileSync(file, JSON.stringify(transform));
  return transform;
}

/** Runs one phase in this process; prints one JSON line. */
async function phase(name: string) {
  const ctx = benchContext(store);
  const dataset = JSON.parse(readFileSync(refFile, 'utf8')) as DatasetRef;
  let result: string;
  let since: number;
  if (name === 'fit' || name === 'fit-declared') {
    since = performance.now();
    const { transform } = await fitFeaturesImpl.run(
      name === 'fit'
        ? { dataset, label: 'label' }
        : { dataset, label: 'label', impute: { a: 'median' }, bucketize: { c: { quantiles: 10 } } },
      ctx,
    );
    result = transform.sha256;
  } else {
    const spec = await loadTransform(ctx.artifacts, (await transformOf(ctx, dataset)).uri);
    const names = spec.features.map((f) => f.name);
    since = performance.now();
    let features: Float32Array;
    if (name === 'rows') {
      features = transformRows(spec, (await loadDataset(ctx.artifacts, dataset)).rows);
    } else if (name === 'columns') {
      features = transformColumns(spec, await loadColumns(ctx.artifacts, dataset, names));
    } else throw new Error(`unknown phase '${name}'`);
    result = createHash('sha256').update(features).digest('hex');
  }
  const elapsed = seconds(since);
  console.log(JSON.stringify({ phase: name, seconds: elapsed, maxRssKiB: process.resourceUsage().maxRSS, result }));
}

if (args.child === 'generate') {
  const since = performance.now();
  const ref = await generate(new ArtifactStore(store));
  writeFileSync(refFile, JSON.stringify(ref));
  console.log(`generated ${rows} rows in ${seconds(since).toFixed(1)} s (${ref.sha256.slice(0, 12)})`);
  process.exit(0);
}
if (args.child) {
  await phase(args.child);
  process.exit(0);
}

// Linux hands a child the parent's peak RSS at fork (ru_maxrss survives exec): this process
// stays small and generates the data in a child too, so that each phase's peak is its own.
const self = fileURLToPath(import.meta.url);
const child = (name: string) =>
  execFileSync(
    process.execPath,
    ['--import', 'tsx', self, '--rows', String(rows), '--dir', args.dir, '--child', name],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
mkdirSync(args.dir, { recursive: true });
if (!existsSync(refFile)) process.stdout.write(child('generate'));
console.log(`rows ${rows}; ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(2)}`);
for (const name of args.phases.split(',')) {
  const line = child(name).trim().split('\n').at(-1)!;
  const r = JSON.parse(line) as { seconds: number; maxRssKiB: number; result: string };
  console.log(
    `${name.padEnd(13)} ${r.seconds.toFixed(2).padStart(7)} s  ${Math.round(rows / r.seconds)
      .toLocaleString('en')
      .padStart(11)} rows/s  peak RSS ${(r.maxRssKiB / 1024).toFixed(0).padStart(5)} MiB  ${r.result.slice(0, 16)}`,
  );
}
