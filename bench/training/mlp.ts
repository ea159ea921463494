import { existsSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { evaluateClassifierImpl } from '../../activities/evaluate/classifier';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { tensorflow, type BackendName } from '../../activities/train/backend';
import { trainClassifierImpl } from '../../activities/train/classifier';
import { testContext } from '../../test/support/step-context';
import { generateCsv } from './generate';

// Issue 12 item 5: the MLP on big data, per TensorFlow.js backend. On the generated CSV
// (generate.ts; 75% of the rows to train, 25% held out), train.classifier fits an MLP:
//   - "early stop": the defaults for big data (no batchSize, no earlyStopping): batches chosen
//     from the row count, 10% held out, stop after 10 epochs without improvement, best epoch kept;
//   - "all epochs": the same batches with earlyStopping: false, for as many epochs as the early
//     stopping run's most (--epochs);
//   - "batch 32": the old small-data batch, for --small-epochs epochs, for the rows/s of small batches.
// Prints the fit's seconds (on the pool thread, from the step's log) and training rows/s (rows
// trained × epochs run / fit seconds), the step's seconds end to end, epochs run, the best epoch
// and held-out ROC AUC (evaluate.classifier on the 25%), after one unreported warm-up fit.
// One backend a run: pool threads read KILN_TF_BACKEND when they start and stay warm between fits.
// Usage: npx tsx bench/training/mlp.ts --backend wasm|cpu [--rows 500000] [--epochs 60] [--small-epochs 1] [--runs early,all,small]

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '500000' },
    backend: { type: 'string', default: 'wasm' },
    epochs: { type: 'string', default: '60' },
    'small-epochs': { type: 'string', default: '1' },
    runs: { type: 'string', default: 'early,all,small' },
    hidden: { type: 'string', default: '16' },
    'learning-rate': { type: 'string', default: '0.01' },
    dir: { type: 'string', default: join(tmpdir(), 'kiln-bench-training') },
  },
});
const rows = Number(args.rows);
const epochs = Number(args.epochs);
const smallEpochs = Number(args['small-epochs']);
const hidden = args.hidden.split(',').map(Number);
const runOrder = args.runs.split(',');
const runs = new Set(runOrder);
const backend = args.backend as BackendName;
process.env.KILN_TF_BACKEND = backend;

mkdirSync(args.dir, { recursive: true });
process.env.KILN_DATA_ROOTS = args.dir;
const csv = join(args.dir, `train-${rows}.csv`);
if (!existsSync(csv)) {
  console.log(`generating ${csv}`);
  await generateCsv(csv, rows);
}

const ctx = await testContext();
// The fit's own seconds, as the step logs them.
let fitSeconds = NaN;
ctx.log = (message, fields) => {
  if (message === 'trained') fitSeconds = fields!.seconds as number;
};
try {
  const raw = await readCsvImpl.run({ path: csv, label: 'label' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.25, seed: 7, stratifyBy: 'label' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'label' }, ctx);
  const n = split.train.rows;
  const common = {
    train: split.train,
    transform,
    label: 'label',
    positiveClass: 'yes',
    architecture: 'mlp' as const,
    hidden,
    learningRate: Number(args['learning-rate']),
    seed: 7,
  };
  const configs = [
    { name: 'early stop (defaults)', run: 'early', params: { epochs } },
    { name: 'all epochs', run: 'all', params: { epochs, earlyStopping: false } },
    { name: 'batch 32', run: 'small', params: { epochs: smallEpochs, batchSize: 32, earlyStopping: false } },
  ]
    .filter((c) => runs.has(c.run))
    .sort((a, b) => runOrder.indexOf(a.run) - runOrder.indexOf(b.run));

  console.log(
    `${rows} rows generated: ${n} training, ${split.test.rows} held out; MLP [${hidden.join(', ')}], Adam, learning rate ${common.learningRate}, at most ${epochs} epochs; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    'backend  run                     batch  epochs  best   fit s   rows/s     step s  held-out ROC AUC  load',
  );
  await tensorflow([backend]);
  // Unreported: the first fit on a thread pays for starting the backend and its kernels.
  await trainClassifierImpl.run({ ...common, epochs: 1, earlyStopping: false }, ctx);
  for (const config of configs) {
    const started = performance.now();
    const trained = await trainClassifierImpl.run({ ...common, ...config.params }, ctx);
    const stepSeconds = (performance.now() - started) / 1000;
    if (trained.backend !== backend) throw new Error(`asked for ${backend}, trained on ${trained.backend}`);
    const t = trained.training!;
    const trainedRows = n - (t.earlyStopping?.validationRows ?? 0);
    const auc = (await evaluateClassifierImpl.run({ model: trained.model, dataset: split.test }, ctx)).metrics.rocAuc;
    console.log(
      [
        backend.padEnd(8),
        config.name.padEnd(22),
        String(t.batchSize).padStart(6),
        String(t.epochsRun).padStart(7),
        String(t.earlyStopping?.bestEpoch ?? '—').padStart(5),
        fitSeconds.toFixed(1).padStart(7),
        Math.round((trainedRows * t.epochsRun) / fitSeconds)
          .toLocaleString('en')
          .padStart(10),
        stepSeconds.toFixed(1).padStart(8),
        auc.toFixed(4).padStart(17),
        loadavg()[0]!.toFixed(2).padStart(6),
      ].join(' '),
    );
  }
} finally {
  await ctx.dispose();
}
