// data.quality, data.split and data.threshold on a generated dataset of the shape (8 numeric
// columns and a string label), each step in a child process of its own so that its peak RSS is its
// own. The dataset is written straight from columns (seeded), not parsed from CSV, in a child too:
// Linux hands a child its parent's peak RSS (ru_maxrss survives fork and exec), so this process stays small.
// Usage: npx tsx bench/data/steps.ts [--rows 1000000] [--steps quality,split,threshold]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { writeColumns } from '../../activities/common/dataset/dataset';
import { mulberry32 } from '../../activities/common/random';
import { checkQualityImpl } from '../../activities/data/quality';
import { splitImpl } from '../../activities/data/split';
import { checkQuality } from '../../activities/data/steps';
import { thresholdLabelImpl } from '../../activities/data/threshold';
import { datasetRef, type DatasetRef } from '../../activities/refs';
import type { StepContext } from '../../activities/library';
import { benchContext, load, machine } from './machine';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    steps: { type: 'string', default: 'quality,split,threshold' },
    // Internal: run one step on a stored dataset and print its timing as JSON.
    child: { type: 'string' },
    root: { type: 'string' },
    dataset: { type: 'string' },
  },
});

/** Eight standard normal columns (one in a thousand x1 missing) and a label, 'bad' about 30% of the time. */
async function generate(artifacts: ArtifactStore, rows: number): Promise<DatasetRef> {
  const random = mulberry32(42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const numbers = Array.from({ length: 8 }, () => new Float64Array(rows));
  const label = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    let score = 0;
    for (const [i, column] of numbers.entries()) {
      column[r] = Math.round(normal() * 1e6) / 1e6;
      score += i < 3 ? column[r]! : 0;
    }
    if (r % 1000 === 999) numbers[0]![r] = Number.NaN;
    label[r] = score + normal() > 1 ? 'bad' : 'good';
  }
  const columns = [
    ...numbers.map((_, i) => ({ name: `x${i + 1}`, type: 'number' as const })),
    { name: 'label', type: 'string' as const },
  ];
  return writeColumns(artifacts, columns, [...numbers, label], rows);
}

async function runStep(step: string, ctx: StepContext, dataset: DatasetRef): Promise<unknown> {
  switch (step) {
    case 'quality': {
      const checks = [
        { rowCount: { min: 1 } },
        { column: 'x1', type: 'number', notNull: true },
        { column: 'x2', notNull: true, min: -10, max: 10 },
        { column: 'x3', min: -3, max: 3 },
        { column: 'label', type: 'string', notNull: true, allowed: ['good', 'bad'] },
        { column: 'x4', distribution: { reference: dataset } },
      ];
      const out = await checkQualityImpl.run(checkQuality.input.parse({ dataset, checks, onFailure: 'warn' }), ctx);
      return { passed: out.passed, failures: out.failures.map((f) => f.message) };
    }
    case 'split': {
      const { train, test } = await splitImpl.run({ dataset, testFraction: 0.25, seed: 7, stratifyBy: 'label' }, ctx);
      return { train: [train.rows, train.sha256], test: [test.rows, test.sha256] };
    }
    case 'threshold': {
      const out = await thresholdLabelImpl.run(
        { dataset, column: 'x5', label: 'high', above: 'high', atOrBelow: 'low', threshold: 'median' },
        ctx,
      );
      return { threshold: out.threshold, counts: out.counts, sha256: out.dataset.sha256 };
    }
    default:
      throw new Error(`unknown step '${step}'; steps are quality, split, threshold`);
  }
}

if (values.child === 'generate') {
  const started = performance.now();
  const dataset = await generate(new ArtifactStore(values.root!), Number(values.rows));
  console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, dataset }));
  process.exit(0);
}
if (values.child) {
  const ctx = benchContext(values.root!);
  const dataset = datasetRef.parse(JSON.parse(values.dataset!));
  const started = performance.now();
  const result = await runStep(values.child, ctx, dataset);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, result }));
  process.exit(0);
}

const rows = Number(values.rows);
console.log(machine());
console.log(`load average at start: ${load()}`);
const root = await mkdtemp(`${tmpdir()}/kiln-steps-`);
/** Runs this script as a child with these arguments and returns the JSON its last line prints. */
const child = (args: string[]): unknown => {
  const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, KILN_HOME: root },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
};
try {
  const generated = child(['--child', 'generate', '--root', root, '--rows', String(rows)]) as {
    seconds: number;
    dataset: DatasetRef;
  };
  const dataset = generated.dataset;
  console.log(
    `generated ${rows.toLocaleString('en')} rows in ${generated.seconds.toFixed(1)} s (${(dataset.size / 1e6).toFixed(0)} MB stored)`,
  );
  console.log('| step | rows | seconds | rows/s | peak RSS MiB | result |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const step of values.steps.split(',')) {
    const { seconds, maxRssKiB, result } = child([
      '--child',
      step,
      '--root',
      root,
      '--dataset',
      JSON.stringify(dataset),
    ]) as {
      seconds: number;
      maxRssKiB: number;
      result: unknown;
    };
    console.log(
      `| ${step} | ${rows.toLocaleString('en')} | ${seconds.toFixed(2)} | ${Math.round(rows / seconds).toLocaleString('en')} | ${(maxRssKiB / 1024).toFixed(0)} | ${JSON.stringify(result)} |`,
    );
  }
  console.log(`load average at end: ${load()}`);
} finally {
  await rm(root, { recursive: true, force: true });
}
