import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset, type Row } from '../../activities/common/dataset/dataset';
import { rocAuc } from '../../activities/common/metrics/classification';
import { loadTransform, transformRows } from '../../activities/common/model/transform';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { evaluateClassifierImpl } from '../../activities/evaluate/classifier';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { trainClassifierImpl } from '../../activities/train/classifier';
import { fitLogisticLbfgs, logisticOutputs } from '../../activities/train/logistic-lbfgs';
import { testContext } from '../../test/support/step-context';
import { generateCsv } from './generate';

// Issue 12 item 5: Kiln's logistic regression against scikit-learn's LogisticRegression(lbfgs)
// on standardized features, in the same run, on the same 75% training rows of a generated
// 500,000-row CSV (8 numeric columns, a string label), scored on the same held-out 25%.
// Kiln's fit is timed in-process (fitLogisticLbfgs on the features Kiln's fitted transform
// gives), best of N, against scikit-learn's LogisticRegression.fit on StandardScaler output, best
// of N; then train.classifier runs once end to end (load, transform, fit on a pool thread,
// parity check) and evaluate.classifier gives its held-out ROC AUC. Both minimize the same
// objective: scikit-learn's C = 1 is Kiln's l2 = 1 / (2·C·n).
// Usage (through run.sh, which prepares bench/.venv):
//   npx tsx bench/training/logistic.ts --python bench/.venv/bin/python [--rows 500000] [--repeat 3] [--sgd-epochs 2]

const { values: args } = parseArgs({
  options: {
    python: { type: 'string', default: 'bench/.venv/bin/python' },
    rows: { type: 'string', default: '500000' },
    repeat: { type: 'string', default: '3' },
    'sgd-epochs': { type: 'string', default: '2' },
    dir: { type: 'string', default: join(tmpdir(), 'kiln-bench-training') },
  },
});
const rows = Number(args.rows);
const repeat = Number(args.repeat);
const sgdEpochs = Number(args['sgd-epochs']);
const C = 1;
const MAX_ITERATIONS = 200;

const seconds = (since: number) => (performance.now() - since) / 1000;
const fmt = (x: number, digits = 2) => x.toFixed(digits);

function writeCsv(path: string, columns: string[], data: readonly Row[]) {
  writeFileSync(path, [columns.join(','), ...data.map((r) => columns.map((c) => String(r[c])).join(','))].join('\n'));
}

mkdirSync(args.dir, { recursive: true });
// data.readCsv reads only below the data roots.
process.env.KILN_DATA_ROOTS = args.dir;
const csv = join(args.dir, `train-${rows}.csv`);
if (!existsSync(csv)) {
  console.log(`generating ${csv}`);
  await generateCsv(csv, rows);
}

const ctx = await testContext();
try {
  const raw = await readCsvImpl.run({ path: csv, label: 'label' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.25, seed: 7, stratifyBy: 'label' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'label' }, ctx);
  const spec = await loadTransform(ctx.artifacts, transform.uri);
  const train = await loadDataset(ctx.artifacts, split.train);
  const test = await loadDataset(ctx.artifacts, split.test);
  const columns = train.columns.map((c) => c.name);
  const trainCsv = join(args.dir, 'split-train.csv');
  const testCsv = join(args.dir, 'split-test.csv');
  writeCsv(trainCsv, columns, train.rows);
  writeCsv(testCsv, columns, test.rows);

  const n = train.rows.length;
  const features = transformRows(spec, train.rows);
  const targets = Float32Array.from(train.rows, (r) => (r.label === 'yes' ? 1 : 0));
  const problem = { features, targets, rows: n, inputs: features.length / n, outputs: 1, l2: 1 / (2 * C * n) };

  // scikit-learn first, then Kiln, both best of `repeat`, in this one run.
  const python = spawnSync(
    args.python,
    [join(import.meta.dirname, 'sklearn_fit.py'), trainCsv, testCsv, String(C), String(repeat)],
    {
      encoding: 'utf8',
    },
  );
  if (python.status !== 0) throw new Error(`sklearn_fit.py failed: ${python.stderr}`);
  const sk = JSON.parse(python.stdout) as {
    fitSeconds: number;
    scaleAndFitSeconds: number;
    iterations: number;
    auc: number;
    coef: number[];
    intercept: number;
  };

  let fitSeconds = Infinity;
  let fit = fitLogisticLbfgs(problem, { maxIterations: MAX_ITERATIONS });
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    fit = fitLogisticLbfgs(problem, { maxIterations: MAX_ITERATIONS });
    fitSeconds = Math.min(fitSeconds, seconds(started));
  }
  const testFeatures = transformRows(spec, test.rows);
  const yTest = test.rows.map((r) => (r.label === 'yes' ? 1 : 0));
  const fitAuc = rocAuc(
    yTest,
    Array.from(logisticOutputs({ ...problem, features: testFeatures, rows: test.rows.length }, fit)),
  );
  const coefDiff = Math.max(
    ...sk.coef.map((c, j) => Math.abs(c - fit.weights[j]!)),
    Math.abs(sk.intercept - fit.bias[0]!),
  );

  // The step end to end, once: what a pipeline run spends, and the AUC evaluate.classifier reports.
  const common = {
    train: split.train,
    transform,
    label: 'label',
    positiveClass: 'yes',
    learningRate: 0.05,
    batchSize: 1024,
    seed: 7,
  };
  let started = performance.now();
  const step = await trainClassifierImpl.run(
    { ...common, architecture: 'logistic', epochs: MAX_ITERATIONS, l2: problem.l2 },
    ctx,
  );
  const stepSeconds = seconds(started);
  const stepAuc = (await evaluateClassifierImpl.run({ model: step.model, dataset: split.test }, ctx)).metrics.rocAuc;

  console.log(
    `${rows} rows generated: ${n} training, ${test.rows.length} held out; ${problem.inputs} standardized features; C=${C} (l2=${problem.l2.toExponential(3)}); best of ${repeat}`,
  );
  console.log('fit                                     seconds   rows/s      ratio  iterations  held-out ROC AUC');
  const line = (name: string, s: number, iterations: number | string, auc: number) =>
    console.log(
      `${name.padEnd(38)} ${fmt(s, 3).padStart(8)} ${Math.round(n / s)
        .toLocaleString('en')
        .padStart(10)} ${fmt(s / sk.fitSeconds).padStart(8)}x ${String(iterations).padStart(11)}  ${fmt(auc, 4)}`,
    );
  line('scikit-learn LogisticRegression.fit', sk.fitSeconds, sk.iterations, sk.auc);
  line('scikit-learn StandardScaler + fit', sk.scaleAndFitSeconds, sk.iterations, sk.auc);
  line('Kiln fitLogisticLbfgs (in-process)', fitSeconds, fit.iterations, fitAuc);
  line('Kiln train.classifier step (lbfgs)', stepSeconds, '', stepAuc);
  if (sgdEpochs > 0) {
    started = performance.now();
    const sgd = await trainClassifierImpl.run(
      { ...common, architecture: 'logistic', solver: 'sgd', epochs: sgdEpochs, l2: problem.l2 },
      ctx,
    );
    const s = seconds(started);
    const auc = (await evaluateClassifierImpl.run({ model: sgd.model, dataset: split.test }, ctx)).metrics.rocAuc;
    line(`Kiln train.classifier (sgd, ${sgd.backend}, ${sgdEpochs} ep)`, s, `${sgdEpochs} epochs`, auc);
  }
  console.log(
    `ratio Kiln/scikit-learn fit: ${fmt(fitSeconds / sk.fitSeconds)}x (target ≤ 3x); AUC difference ${fmt(fitAuc - sk.auc, 4)} (target ±0.005); largest coefficient difference ${coefDiff.toExponential(2)}`,
  );
} finally {
  await ctx.dispose();
}
