// Feeds the same fixed predictions to Kiln's metrics and to scikit-learn/fairlearn (reference.py)
// and fails if any pair differs by more than 1e-6. Run through run.sh, which prepares the venv.
// Usage: tsx bench/crosscheck/crosscheck.ts --python bench/.venv/bin/python [--data german-credit.csv] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { averagePrecision, brierScore, expectedCalibrationError } from '../../activities/common/metrics/calibration';
import { fairnessReport } from '../../activities/evaluate/fairness-report';
import { accuracy, f1, logLoss, precision, recall, rocAuc } from '../../activities/common/metrics/classification';
import { meanAbsoluteError, r2Score, rootMeanSquaredError } from '../../activities/common/metrics/regression';

const TOLERANCE = 1e-6;
const THRESHOLD = 0.5;
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

const { values: args } = parseArgs({
  options: {
    python: { type: 'string', default: join(repo, 'bench/.venv/bin/python') },
    data: { type: 'string', default: resolve(repo, 'examples/data/german-credit.csv') },
    keep: { type: 'boolean', default: false },
  },
});

type CsvRow = Record<string, string>;

function readCsv(path: string): CsvRow[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split(/\r?\n/);
  if (header === undefined || header.includes('"')) throw new Error(`${path}: expected a header line without quotes`);
  const columns = header.split(',');
  return lines.map((line, i) => {
    const cells = line.split(',');
    if (line.includes('"') || cells.length !== columns.length)
      throw new Error(`${path}:${i + 2}: expected ${columns.length} unquoted cells`);
    return Object.fromEntries(columns.map((c, j) => [c, cells[j]!]));
  });
}

interface ClassificationCase {
  name: string;
  yTrue: number[];
  yScore: number[];
  groups: Record<string, string[]>;
}

interface RegressionCase {
  name: string;
  yTrue: number[];
  yPred: number[];
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const checking: Record<string, number> = { '<0': 0.9, '0<=X<200': 0.5, '>=200': -0.3, 'no checking': -1.1 };
const savings: Record<string, number> = {
  '<100': 0.35,
  '100<=X<500': 0.1,
  '500<=X<1000': -0.2,
  '>=1000': -0.4,
  'no known savings': -0.5,
};

// A fixed hand-written scorecard for "bad credit risk" on German credit: real rows, deterministic
// scores that are neither perfect nor trivial, with every metric well defined.
function germanCredit(rows: CsvRow[]): { cases: ClassificationCase[]; regression: RegressionCase[] } {
  const num = (r: CsvRow, c: string) => {
    const v = Number(r[c]);
    if (!Number.isFinite(v)) throw new Error(`german credit: column ${c} has non-numeric ${r[c]}`);
    return v;
  };
  const yTrue = rows.map((r) => (r.class === 'bad' ? 1 : 0));
  const yScore = rows.map((r) =>
    sigmoid(
      -1.1 +
        0.035 * (num(r, 'duration') - 20) +
        0.00006 * (num(r, 'credit_amount') - 3200) -
        0.015 * (num(r, 'age') - 35) +
        checking[r.checking_status!]! +
        savings[r.savings_status!]!,
    ),
  );
  const groups = {
    sex: rows.map((r) => (r.personal_status!.startsWith('female') ? 'female' : 'male')),
    age_group: rows.map((r) => (num(r, 'age') < 25 ? 'under_25' : '25_and_over')),
    purpose: rows.map((r) => r.purpose!),
  };
  // The constructed case of fairness.test.ts where group b has no positive label (fairlearn: TPR 0).
  const noPositives: ClassificationCase = {
    name: 'constructed_no_positives',
    yTrue: [0, 0, 1, 1, 0, 0],
    yScore: [0.1, 0.2, 0.9, 0.3, 0.4, 0.2],
    groups: { group: ['a', 'a', 'a', 'a', 'b', 'b'] },
  };
  return {
    cases: [
      { name: 'german_credit', yTrue, yScore, groups },
      // Two decimals make many ties: ROC AUC and average precision must treat them as scikit-learn does,
      // and scores such as 0.3 sit exactly on calibration bin edges.
      { name: 'german_credit_rounded', yTrue, yScore: yScore.map((s) => Math.round(s * 100) / 100), groups },
      noPositives,
    ],
    regression: [
      {
        name: 'german_credit_amount',
        yTrue: rows.map((r) => num(r, 'credit_amount')),
        yPred: rows.map(
          (r) => 400 + 120 * num(r, 'duration') + 8 * num(r, 'age') + (r.purpose === 'used car' ? 1500 : 0),
        ),
      },
    ],
  };
}

function kilnValues(cases: ClassificationCase[], regression: RegressionCase[]): Record<string, number | null> {
  const values: Record<string, number | null> = {};
  const put = (key: string, v: number) => (values[key] = Number.isNaN(v) ? null : v);
  for (const { name, yTrue, yScore, groups } of cases) {
    put(`${name}.accuracy`, accuracy(yTrue, yScore, THRESHOLD));
    put(`${name}.precision`, precision(yTrue, yScore, THRESHOLD));
    put(`${name}.recall`, recall(yTrue, yScore, THRESHOLD));
    put(`${name}.f1`, f1(yTrue, yScore, THRESHOLD));
    put(`${name}.roc_auc`, rocAuc(yTrue, yScore));
    put(`${name}.log_loss`, logLoss(yTrue, yScore));
    put(`${name}.average_precision`, averagePrecision(yTrue, yScore));
    put(`${name}.brier`, brierScore(yTrue, yScore));
    put(`${name}.ece_uniform_10`, expectedCalibrationError(yTrue, yScore, { bins: 10, strategy: 'uniform' }));
    put(`${name}.ece_quantile_10`, expectedCalibrationError(yTrue, yScore, { bins: 10, strategy: 'quantile' }));
    const yPred = yScore.map((s) => (s >= THRESHOLD ? 1 : 0));
    for (const [attribute, sensitive] of Object.entries(groups)) {
      const report = fairnessReport(yTrue, yPred, sensitive);
      const key = `${name}.${attribute}`;
      put(`${key}.demographic_parity_difference`, report.demographicParityDifference);
      put(`${key}.demographic_parity_ratio`, report.demographicParityRatio);
      put(`${key}.equalized_odds_difference`, report.equalizedOddsDifference);
      for (const g of report.groups) {
        put(`${key}.selection_rate[${g.group}]`, g.selectionRate);
        put(`${key}.tpr[${g.group}]`, g.truePositiveRate);
        put(`${key}.fpr[${g.group}]`, g.falsePositiveRate);
      }
    }
  }
  for (const { name, yTrue, yPred } of regression) {
    put(`${name}.mae`, meanAbsoluteError(yTrue, yPred));
    put(`${name}.rmse`, rootMeanSquaredError(yTrue, yPred));
    put(`${name}.r2`, r2Score(yTrue, yPred));
  }
  return values;
}

function writeInputs(dir: string, cases: ClassificationCase[], regression: RegressionCase[]): string {
  const manifest = {
    classification: cases.map(({ name, yTrue, yScore, groups }) => {
      const attributes = Object.keys(groups);
      const lines = [['y_true', 'y_score', ...attributes].join(',')];
      yTrue.forEach((y, i) => lines.push([y, String(yScore[i]), ...attributes.map((a) => groups[a]![i])].join(',')));
      const csv = join(dir, `${name}.csv`);
      writeFileSync(csv, `${lines.join('\n')}\n`);
      return { name, csv, attributes };
    }),
    regression: regression.map(({ name, yTrue, yPred }) => {
      const csv = join(dir, `${name}.csv`);
      writeFileSync(csv, `y_true,y_pred\n${yTrue.map((y, i) => `${y},${String(yPred[i])}`).join('\n')}\n`);
      return { name, csv };
    }),
  };
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify(manifest, null, 2));
  return path;
}

function main(): number {
  const { cases, regression } = germanCredit(readCsv(args.data!));
  const dir = mkdtempSync(join(tmpdir(), 'kiln-crosscheck-'));
  try {
    const manifest = writeInputs(dir, cases, regression);
    const kiln = kilnValues(cases, regression);
    const run = spawnSync(args.python!, [join(here, 'reference.py'), manifest], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (run.error || run.status !== 0) {
      console.error(run.stderr);
      throw new Error(
        `reference.py failed (${run.error?.message ?? `exit ${run.status}`}); is ${args.python} the venv made by bench/crosscheck/run.sh?`,
      );
    }
    const reference = JSON.parse(run.stdout) as {
      versions: Record<string, string>;
      values: Record<string, number | null>;
    };
    const keys = [...new Set([...Object.keys(kiln), ...Object.keys(reference.values)])];
    const width = Math.max(...keys.map((k) => k.length));
    const show = (v: number | null | undefined) =>
      (v === undefined ? 'absent' : v === null ? 'NaN' : v.toPrecision(12)).padStart(20);
    console.log(
      `reference: ${Object.entries(reference.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(
      `data: ${args.data} (${cases[0]!.yTrue.length} rows); inputs in ${dir}${args.keep ? '' : ' (removed after the run)'}`,
    );
    console.log(
      `${'metric'.padEnd(width)} ${'kiln'.padStart(20)} ${'reference'.padStart(20)} ${'abs diff'.padStart(10)}`,
    );
    let worst = 0;
    const failures: string[] = [];
    for (const key of keys) {
      const a = kiln[key];
      const b = reference.values[key];
      let diff: number;
      if (a === undefined || b === undefined) diff = Number.POSITIVE_INFINITY;
      else if (a === null || b === null) diff = a === b ? 0 : Number.POSITIVE_INFINITY;
      else diff = Math.abs(a - b);
      worst = Math.max(worst, diff);
      if (!(diff <= TOLERANCE)) failures.push(key);
      console.log(
        `${key.padEnd(width)} ${show(a)} ${show(b)} ${diff.toExponential(1).padStart(10)}${diff <= TOLERANCE ? '' : '  FAIL'}`,
      );
    }
    console.log(
      `\n${keys.length} values compared; max abs difference ${worst.toExponential(2)} (tolerance ${TOLERANCE})`,
    );
    if (failures.length > 0) {
      console.error(`${failures.length} values differ by more than ${TOLERANCE}: ${failures.join(', ')}`);
      return 1;
    }
    console.log(`${keys.length} passed, 0 failed`);
    return 0;
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
