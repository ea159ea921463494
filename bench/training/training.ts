import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { testContext } from '../../test/support/step-context';
import { evaluateClassifierImpl } from '../../activities/evaluate/classifier';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { DEFAULT_BACKENDS, tensorflow, type BackendName } from '../../activities/train/backend';
import { trainClassifierImpl } from '../../activities/train/classifier';

// Trains the credit-risk example's models (examples/credit-risk.ts: logistic, and the MLP its
// `architecture` param selects, same epochs, rate, batch and seed) on every TensorFlow.js
// backend that starts here, and prints wall time and held-out ROC AUC per backend, with ratios
// against the fastest backend of this run. Usage: npx tsx bench/training/training.ts [--repeat N]

const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1]) || 3;
const models = [
  // Gradient descent by epochs, the path whose backends differ (L-BFGS runs in plain TypeScript: bench/training/logistic.ts).
  { name: 'logistic', params: { architecture: 'logistic' as const, solver: 'sgd' as const } },
  { name: 'mlp [16]', params: { architecture: 'mlp' as const } },
];
const common = {
  label: 'class',
  positiveClass: 'bad',
  epochs: 200,
  learningRate: 0.05,
  batchSize: 1024,
  l2: 0.001,
  seed: 7,
};

const ctx = await testContext();
try {
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);

  const available: BackendName[] = [];
  for (const backend of DEFAULT_BACKENDS) {
    try {
      await tensorflow([backend]);
      available.push(backend);
    } catch (error) {
      const reason =
        error instanceof Error
          ? error.message.replace(`no TensorFlow.js backend could start: ${backend}: `, '')
          : String(error);
      console.log(`${backend}: unavailable (${reason})`);
    }
  }

  console.log(
    `German credit: ${split.train.rows} training rows, ${split.test.rows} held out; ${common.epochs} epochs, batch ${common.batchSize}; best of ${repeat} runs`,
  );
  console.log('model      backend     train s   ratio   ROC AUC   ratio');
  for (const model of models) {
    const results: Array<{ backend: BackendName; seconds: number; auc: number }> = [];
    for (const backend of available) {
      process.env.KILN_TF_BACKEND = backend;
      let seconds = Infinity;
      let auc = NaN;
      for (let i = 0; i < repeat; i++) {
        const started = performance.now();
        const trained = await trainClassifierImpl.run(
          { train: split.train, transform, ...common, ...model.params },
          ctx,
        );
        seconds = Math.min(seconds, (performance.now() - started) / 1000);
        if (trained.backend !== backend) throw new Error(`asked for ${backend}, trained on ${trained.backend}`);
        auc = (await evaluateClassifierImpl.run({ model: trained.model, dataset: split.test }, ctx)).metrics.rocAuc;
      }
      results.push({ backend, seconds, auc });
    }
    // Ratios against the fastest backend of this run, for time and for AUC alike.
    const fastest = results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    for (const r of results) {
      console.log(
        `${model.name.padEnd(10)} ${r.backend.padEnd(10)} ${r.seconds.toFixed(2).padStart(8)} ${(r.seconds / fastest.seconds).toFixed(2).padStart(7)}x ${r.auc.toFixed(4).padStart(9)} ${(r.auc / fastest.auc).toFixed(4).padStart(7)}x`,
      );
    }
  }
} finally {
  await ctx.dispose();
}
