import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DatasetRef, TransformRef } from '../../../activities/refs';
import { writeDataset } from '../../../activities/common/dataset/dataset';
import { mulberry32 } from '../../../activities/common/random';
import { testContext } from '../../support/step-context';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { evaluateClassifierImpl } from '../../../activities/evaluate/classifier';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { loadModel } from '../../../activities/common/model/model';

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let binary: { train: DatasetRef; transform: TransformRef };
let three: { train: DatasetRef; transform: TransformRef };

const columns = [
  { name: 'a', type: 'number' as const },
  { name: 'b', type: 'number' as const },
  { name: 'kind', type: 'string' as const },
  { name: 'y', type: 'string' as const },
];

/** Points around one centre per class, with a categorical column that hints at the class. */
async function clusters(classes: string[], n: number): Promise<{ train: DatasetRef; transform: TransformRef }> {
  const random = mulberry32(5);
  const rows = Array.from({ length: n }, (_, i) => {
    const k = i % classes.length;
    const angle = (2 * Math.PI * k) / classes.length;
    return [
      3 * Math.cos(angle) + random() * 2 - 1,
      3 * Math.sin(angle) + random() * 2 - 1,
      random() < 0.7 ? `k${k}` : 'other',
      classes[k]!,
    ];
  });
  const train = await writeDataset(ctx.artifacts, columns, rows);
  const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y' }, ctx);
  return { train, transform };
}

// Gradient descent by epochs (the L-BFGS default has tests of its own in logistic-solver.test.ts).
const logistic = {
  label: 'y',
  architecture: 'logistic' as const,
  solver: 'sgd' as const,
  epochs: 30,
  learningRate: 0.1,
  batchSize: 1000,
  seed: 1,
};

before(async () => {
  ctx = await testContext();
  binary = await clusters(['no', 'yes'], 200);
  three = await clusters(['setosa', 'versicolor', 'virginica'], 300);
});
after(async () => {
  await ctx.dispose();
});

describe('train.classifier', () => {
  it('is reproducible: the same seed gives the same model and metrics, heartbeating every epoch', async () => {
    ctx.heartbeats.length = 0;
    const a = await trainClassifierImpl.run({ ...binary, ...logistic }, ctx);
    // Each epoch's progress, in order; liveness heartbeats between epochs repeat the last one. The
    // last epochs' messages may still be in flight from the training thread when the step returns.
    const progress = ctx.heartbeats.filter((h): h is { epoch: number } => h !== undefined);
    const epochs = [...new Set(progress.map((h) => h.epoch))];
    assert.deepEqual(
      epochs,
      Array.from({ length: epochs.length }, (_, i) => i + 1),
    );
    assert.ok(epochs.length >= 25, `only ${epochs.length} of 30 epochs were heartbeated`);
    assert.deepEqual(Object.keys(progress.at(-1)!), ['epoch', 'epochs', 'loss']);
    const b = await trainClassifierImpl.run({ ...binary, ...logistic }, ctx);
    assert.equal(a.model.sha256, b.model.sha256);
    assert.deepEqual(a.trainMetrics, b.trainMetrics);
    assert.equal(a.backend, a.model.backend);
    assert.ok(a.trainMetrics.accuracy > 0.9, `accuracy ${a.trainMetrics.accuracy}`);
  });

  it('shuffles mini-batches from the seed: another seed gives another MLP', async () => {
    const mlp = { ...binary, ...logistic, architecture: 'mlp' as const, hidden: [8], epochs: 3, batchSize: 32 };
    const a = await trainClassifierImpl.run(mlp, ctx);
    const b = await trainClassifierImpl.run(mlp, ctx);
    const c = await trainClassifierImpl.run({ ...mlp, seed: 2 }, ctx);
    assert.equal(a.model.sha256, b.model.sha256);
    assert.notEqual(a.model.sha256, c.model.sha256);
    const model = await loadModel(ctx.artifacts, a.model.uri);
    assert.deepEqual(
      model.layers.map((l) => [l.weights.length, l.bias.length, l.activation]),
      [
        [5, 8, 'relu'],
        [8, 1, 'sigmoid'],
      ],
    );
  });

  it('stores a self-contained binary model whose second class is the positive one', async () => {
    const out = await trainClassifierImpl.run({ ...binary, ...logistic, positiveClass: 'no' }, ctx);
    const model = await loadModel(ctx.artifacts, out.model.uri);
    assert.deepEqual(model.classes, ['yes', 'no']);
    assert.deepEqual(out.model.classes, ['yes', 'no']);
    assert.equal(model.task, 'binary');
    assert.equal(model.transform.sha256, binary.transform.sha256);
    assert.equal(model.transform.spec.kind, 'kiln.transform');
  });

  it('trains a softmax classifier for three classes', async () => {
    const out = await trainClassifierImpl.run({ ...three, ...logistic, epochs: 60 }, ctx);
    assert.equal(out.model.task, 'multiclass');
    assert.deepEqual(out.model.classes, ['setosa', 'versicolor', 'virginica']);
    assert.ok(out.trainMetrics.accuracy > 0.9, `accuracy ${out.trainMetrics.accuracy}`);
    const model = await loadModel(ctx.artifacts, out.model.uri);
    assert.equal(model.layers[0]!.activation, 'softmax');
  });

  it('stops when the activity is cancelled', async () => {
    const local = await testContext();
    try {
      const beat = local.heartbeat;
      local.heartbeat = (details) => {
        beat(details);
        if ((details as { epoch?: number } | undefined)?.epoch === 2) local.abort.abort(new Error('cancelled by test'));
      };
      const train = await writeDataset(local.artifacts, columns, [
        [0, 0, 'x', 'no'],
        [1, 1, 'y', 'yes'],
      ]);
      const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y' }, local);
      await assert.rejects(
        trainClassifierImpl.run({ train, transform, ...logistic, epochs: 5000 }, local),
        /cancelled by test/,
      );
      // The training thread ended at the cancellation, thousands of epochs early.
      const epochs = local.heartbeats.map((h) => (h as { epoch?: number } | undefined)?.epoch ?? 0);
      assert.ok(Math.max(...epochs) < 1000, `trained on to epoch ${Math.max(...epochs)} after the cancellation`);
    } finally {
      await local.dispose();
    }
  });

  it('rejects hidden layers for logistic regression, a one-class label and an unknown positive class', async () => {
    await assert.rejects(
      trainClassifierImpl.run({ ...binary, ...logistic, hidden: [4] }, ctx),
      /use architecture 'mlp'/,
    );
    await assert.rejects(
      trainClassifierImpl.run({ ...binary, ...logistic, positiveClass: 'maybe' }, ctx),
      /positive class 'maybe' is not a value of 'y'/,
    );
    const one = await writeDataset(ctx.artifacts, columns, [
      [0, 0, 'x', 'no'],
      [1, 1, 'y', 'no'],
    ]);
    const { transform } = await fitFeaturesImpl.run({ dataset: one, label: 'y' }, ctx);
    await assert.rejects(
      trainClassifierImpl.run({ train: one, transform, ...logistic }, ctx),
      (error: Error & { nonRetryable?: boolean; type?: string }) => {
        assert.equal(error.message, `the label 'y' has only the class "no"; a classifier needs two or more`);
        assert.equal(error.nonRetryable, true);
        assert.equal(error.type, 'InvalidData');
        return true;
      },
    );
  });

  it('is reproducible on German credit: two runs give the same held-out metrics to the last digit', async () => {
    const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
    const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);
    for (const params of [
      { architecture: 'logistic' as const, epochs: 100, learningRate: 0.05, batchSize: 1024 },
      { architecture: 'mlp' as const, hidden: [16, 8], epochs: 20, learningRate: 0.01, batchSize: 64 },
    ]) {
      const run = async () => {
        const trained = await trainClassifierImpl.run(
          { train: split.train, transform, label: 'class', positiveClass: 'bad', l2: 0.001, seed: 7, ...params },
          ctx,
        );
        return {
          trained,
          evaluated: await evaluateClassifierImpl.run({ model: trained.model, dataset: split.test }, ctx),
        };
      };
      const [a, b] = [await run(), await run()];
      assert.equal(a.trained.model.sha256, b.trained.model.sha256, params.architecture);
      assert.deepEqual(a.trained.trainMetrics, b.trained.trainMetrics);
      assert.deepEqual(a.evaluated.metrics, b.evaluated.metrics);
      assert.ok(a.evaluated.metrics.rocAuc > 0.7, `${params.architecture} AUC ${a.evaluated.metrics.rocAuc}`);
    }
  });
});
