// Dataset drift over a million logged rows × 20 features: Kiln's monitor/drift against Evidently on the same data in
// the same run. Generates the data deterministically (bench/monitor/generate.ts), writes it for Python, times Kiln's
// datasetDrift (median of --reps runs, from raw columns: dropping missing values, sorting and counting included),
// runs bench/monitor/evidently_drift.py, and prints the speed ratios and the largest difference between the two
// sides' statistics. Two scenarios: a reference of --reference-rows (Evidently's defaults above 1,000 reference rows:
// normed Wasserstein and Jensen–Shannon) and a reference of its first 1,000 rows (KS, chi-square and Z).
// Usage: bash bench/monitor/run.sh [--rows 1000000] [--reference-rows 1000000] [--reps 3] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type Column,
  type Columns,
  datasetDrift,
  type DatasetDrift,
  type DriftSchema,
  type DriftTest,
  featureDrift,
} from '../../monitor/drift';
import { type Codes, decode, generate, type GeneratedColumn } from './generate';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    python: { type: 'string', default: join(repo, 'bench/.venv/bin/python') },
    rows: { type: 'string', default: '1000000' },
    'reference-rows': { type: 'string' },
    reps: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const currentRows = Number(args.rows);
const referenceRows = Number(args['reference-rows'] ?? args.rows);
const reps = Number(args.reps);
const SMALL_REFERENCE = 1000;

interface EvidentlyColumn {
  test: string;
  score: number;
}
interface EvidentlyScenario {
  report: {
    seconds: number;
    cpuSeconds: number;
    share: number;
    count: number;
    columns: Record<string, EvidentlyColumn>;
  };
  stattests: { seconds: number; cpuSeconds: number; columns: Record<string, EvidentlyColumn & { drifted: boolean }> };
  all: Record<string, Record<string, number>>;
}
interface EvidentlyResult {
  versions: Record<string, string>;
  scenarios: Record<string, EvidentlyScenario>;
}

const isCodes = (c: Float64Array | Codes): c is Codes => !(c instanceof Float64Array);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function columnsOf(data: GeneratedColumn[], side: 'reference' | 'current', rows: number): Columns {
  const out: Record<string, Column> = {};
  for (const c of data) {
    const col = c[side];
    out[c.spec.name] = isCodes(col) ? decode(col, 0, rows) : col.subarray(0, rows);
  }
  return out;
}

async function writeData(dir: string, data: GeneratedColumn[], scenarios: { name: string; referenceRows: number }[]) {
  for (const c of data) {
    for (const side of ['reference', 'current'] as const) {
      const col = c[side];
      const bytes = isCodes(col) ? col.codes : col;
      await writeFile(
        join(dir, `${c.spec.name}.${side}`),
        new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      );
    }
  }
  const meta = {
    currentRows,
    scenarios,
    columns: data.map((c) => ({
      name: c.spec.name,
      kind: c.spec.kind,
      ...(isCodes(c.reference) ? { categories: c.reference.categories } : {}),
    })),
  };
  await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
}

interface Comparison {
  scenario: string;
  kilnSeconds: number;
  kilnCpuSeconds: number;
  report: EvidentlyScenario['report'];
  stattests: EvidentlyScenario['stattests'];
  kiln: DatasetDrift;
  maxDiffDefaults: number;
  maxDiffAll: number;
  worst: string;
  compared: number;
  disagreements: string[];
}

function compare(
  scenario: string,
  data: GeneratedColumn[],
  schema: DriftSchema,
  reference: Columns,
  current: Columns,
  evidently: EvidentlyScenario,
): Comparison {
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let kiln: DatasetDrift | undefined;
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    kiln = datasetDrift(reference, current, schema);
    const used = process.cpuUsage(cpu);
    times.push((performance.now() - start) / 1000);
    cpuTimes.push((used.user + used.system) / 1e6);
  }
  const result = kiln!;
  const disagreements: string[] = [];
  let maxDiffDefaults = 0;
  let maxDiffAll = 0;
  let worst = '';
  let compared = 0;
  const note = (what: string, a: number, b: number, all: boolean) => {
    const diff = a === b ? 0 : Math.abs(a - b);
    compared++;
    if (!(diff <= 1e-6)) disagreements.push(`${what}: Kiln ${a}, Evidently ${b}`);
    if (all && !(diff <= maxDiffAll)) {
      maxDiffAll = diff;
      worst = what;
    }
    if (!all && !(diff <= maxDiffDefaults)) maxDiffDefaults = diff;
  };
  for (const { spec } of data) {
    const k = result.features[spec.name]!;
    const e = evidently.report.columns[spec.name]!;
    const s = evidently.stattests.columns[spec.name]!;
    if (k.status !== 'measured') {
      disagreements.push(`${spec.name}: Kiln reports ${k.status}`);
      continue;
    }
    if (k.test !== e.test) disagreements.push(`${spec.name}: Kiln chose ${k.test}, Evidently's report ${e.test}`);
    if (k.drifted !== s.drifted)
      disagreements.push(`${spec.name}: drifted ${k.drifted} in Kiln, ${s.drifted} in Evidently`);
    note(`${spec.name} ${k.test} (report)`, k.score, e.score, false);
    note(`${spec.name} ${k.test} (stattest)`, k.score, s.score, false);
  }
  if (result.share !== evidently.report.share) {
    disagreements.push(`share: Kiln ${result.share}, Evidently ${evidently.report.share}`);
  }
  // Every test on every column, untimed: the statistics themselves, whichever test a user picks.
  for (const { spec } of data) {
    for (const [name, score] of Object.entries(evidently.all[spec.name]!)) {
      const test = (name === 'ks_statistic' ? 'ks' : name) as DriftTest;
      const r = featureDrift(reference[spec.name]!, current[spec.name]!, {
        feature: spec.name,
        test,
        minRows: 1,
      });
      if (r.status !== 'measured') throw new Error(`${spec.name}: ${r.status}`);
      note(`${spec.name} ${name}`, name === 'ks_statistic' ? r.statistic : r.score, score, true);
    }
  }
  return {
    scenario,
    kilnSeconds: median(times),
    kilnCpuSeconds: median(cpuTimes),
    report: evidently.report,
    stattests: evidently.stattests,
    kiln: result,
    maxDiffDefaults,
    maxDiffAll,
    worst,
    compared,
    disagreements,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const data = generate(referenceRows, currentRows);
  const schema: DriftSchema = Object.fromEntries(data.map((c) => [c.spec.name, c.spec.kind]));
  const scenarios = [
    { name: `reference ${referenceRows.toLocaleString('en')} rows`, referenceRows },
    { name: `reference ${SMALL_REFERENCE.toLocaleString('en')} rows`, referenceRows: SMALL_REFERENCE },
  ];
  const dir = await mkdtemp(join(tmpdir(), 'kiln-drift-bench-'));
  try {
    await writeData(dir, data, scenarios);
    console.error(`data: ${data.length} features, ${currentRows} window rows, written to ${dir}`);
    const out = join(dir, 'evidently.json');
    const py = spawnSync(args.python, [join(here, 'evidently_drift.py'), dir, out], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (py.status !== 0) throw new Error(`evidently_drift.py exited with ${py.status ?? py.signal}`);
    const evidently = JSON.parse(await readFile(out, 'utf8')) as EvidentlyResult;
    const current = columnsOf(data, 'current', currentRows);
    const results = scenarios.map((s) =>
      compare(
        s.name,
        data,
        schema,
        columnsOf(data, 'reference', s.referenceRows),
        current,
        evidently.scenarios[s.name]!,
      ),
    );
    print(results, evidently.versions, data);
    console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s; ${cpus().length} cores)`);
    if (results.some((r) => r.disagreements.length > 0)) process.exitCode = 1;
  } finally {
    if (!args.keep) await rm(dir, { recursive: true, force: true });
  }
}

function print(results: Comparison[], versions: Record<string, string>, data: GeneratedColumn[]): void {
  console.log(`Dataset drift, ${data.length} features × ${currentRows.toLocaleString('en')} window rows`);
  console.log(
    `Evidently ${versions.evidently}, SciPy ${versions.scipy}, pandas ${versions.pandas}, NumPy ${versions.numpy}; Node ${process.version}\n`,
  );
  // Wall clock and CPU time (this process, all threads): on a shared machine the CPU time is the steadier figure.
  const t = (wall: number, cpu: number) => `${wall.toFixed(2)} / ${cpu.toFixed(2)}`;
  const x = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  console.log(
    '| reference rows | Kiln s (wall / CPU) | Evidently Report s | ratio (wall / CPU) | Evidently stattests alone s | ratio (wall / CPU) | drifted (Kiln / Evidently) | max abs diff, default scores | max abs diff, every test | values compared |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const { report: e, stattests: s } = r;
    console.log(
      `| ${r.scenario.replace(/^reference /, '').replace(/ rows$/, '')} | ${t(r.kilnSeconds, r.kilnCpuSeconds)} | ${t(e.seconds, e.cpuSeconds)} | ${x(e.seconds, r.kilnSeconds)} / ${x(e.cpuSeconds, r.kilnCpuSeconds)} | ${t(s.seconds, s.cpuSeconds)} | ${x(s.seconds, r.kilnSeconds)} / ${x(s.cpuSeconds, r.kilnCpuSeconds)} | ${r.kiln.driftedFeatures}/${data.length} (share ${r.kiln.share.toFixed(2)}) / ${e.count}/${data.length} (share ${e.share.toFixed(2)}) | ${r.maxDiffDefaults.toExponential(1)} | ${r.maxDiffAll.toExponential(1)} (${r.worst}) | ${r.compared} |`,
    );
  }
  for (const r of results) {
    console.log(`\n${r.scenario}: per feature (Kiln)`);
    for (const f of Object.values(r.kiln.features)) {
      if (f.status !== 'measured') continue;
      console.log(`  ${f.feature} ${f.test} score ${f.score.toPrecision(6)} ${f.drifted ? 'DRIFT' : ''}`);
    }
    for (const d of r.disagreements) console.log(`  DISAGREES ${d}`);
  }
}

await main();
