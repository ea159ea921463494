import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeDataset } from '../../../activities/common/dataset/dataset';
import { logLoss } from '../../../activities/common/metrics/classification';
import { loadModel } from '../../../activities/common/model/model';
import { predictProba, predictValues } from '../../../activities/common/model/predict';
import { mulberry32 } from '../../../activities/common/random';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import type { DatasetRef, TransformRef } from '../../../activities/refs';
import { defaultBatchSize } from '../../../activities/train/batch-size';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { resolveEarlyStopping, validationRows } from '../../../activities/train/early-stopping';
import { trainRegressorImpl } from '../../../activities/train/regressor';
import { testContext } from '../../support/step-context';

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
type Data = {
  train: DatasetRef;
  transform: TransformRef;
  /** The same rows with 'v' as the label. */
  regression: TransformRef;
  rows: Array<Record<string, number | string>>;
};
let noisy: Data;
let big: Data;

const columns = [
  { name: 'a', type: 'number' as const },
  { name: 'b', type: 'number' as const },
  { name: 'c', type: 'number' as const },
  { name: 'y', type: 'string' as const },
  { name: 'v', type: 'number' as const },
];

/**
 * A weak signal under heavy label noise: a wide MLP at a high learning rate fits the noise within
 * a few epochs, so the held-out loss bottoms out early and then rises.
 */
async function generate(n: number, seed: number): Promise<Data> {
  const random = mulberry32(seed);
  const rows = Array.from({ length: n }, () => {
    const [a, b, c] = [random() * 2 - 1, random() * 2 - 1, random() * 2 - 1];
    const y = random() < 0.6 + 0.2 * Math.sign(a + b) ? 'yes' : 'no';
    return { a, b, c, y, v: a - b + 2 * (random() - 0.5) };
  });
  const train = await writeDataset(ctx.artifacts, columns, rows);
  const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y', exclude: ['v'] }, ctx);
  const regression = (await fitFeaturesImpl.run({ dataset: train, label: 'v', exclude: ['y'] }, ctx)).transform;
  return { train, transform, regression, rows };
}

const mlp = {
  label: 'y',
  positiveClass: 'yes',
  architecture: 'mlp' as const,
  hidden: [64, 64],
  epochs: 200,
  learningRate: 0.03,
  batchSize: 32,
  seed: 3,
};
const stopping = { validationFraction: 0.25, patience: 4 };

before(async () => {
  ctx = await testContext();
  noisy = await generate(400, 11);
  big = await generate(10_000, 12);
});
after(async () => {
  await ctx.dispose();
});

describe('train.classifier early stopping', () => {
  it('stops once the validation loss has not improved for patience epochs, well before epochs', async () => {
    const trained = await trainClassifierImpl.run({ ...noisy, ...mlp, earlyStopping: stopping }, ctx);
    const record = trained.training!.earlyStopping!;
    assert.ok(trained.training!.epochsRun < mlp.epochs, `ran all ${trained.training!.epochsRun} epochs`);
    assert.equal(trained.training!.epochsRun, record.bestEpoch + stopping.patience);
    assert.equal(record.validationRows, 100);
  });

  it("keeps the best epoch's weights: the stored model's loss on the held-out rows is the best recorded", async () => {
    const trained = await trainClassifierImpl.run({ ...noisy, ...mlp, earlyStopping: stopping }, ctx);
    const model = await loadModel(ctx.artifacts, trained.model.uri);
    const classOf = noisy.rows.map((r) => (r.y === 'yes' ? 1 : 0));
    const held = [...validationRows(noisy.rows.length, stopping.validationFraction, mlp.seed, classOf)];
    const proba = predictProba(
      model,
      held.map((i) => noisy.rows[i]!),
    );
    const loss = logLoss(
      held.map((i) => classOf[i]!),
      proba.map((p) => p[1]!),
    );
    const best = trained.training!.earlyStopping!;
    assert.ok(best.bestEpoch < trained.training!.epochsRun);
    assert.ok(Math.abs(loss - best.validationLoss) < 1e-4, `stored ${loss}, best recorded ${best.validationLoss}`);
  });

  it('is deterministic for a seed: the same rows held out, the same epochs, the same model', async () => {
    const a = await trainClassifierImpl.run({ ...noisy, ...mlp, earlyStopping: stopping }, ctx);
    const b = await trainClassifierImpl.run({ ...noisy, ...mlp, earlyStopping: stopping }, ctx);
    assert.equal(a.model.sha256, b.model.sha256);
    assert.deepEqual(a.training, b.training);
    assert.deepEqual(validationRows(1000, 0.1, 5, undefined), validationRows(1000, 0.1, 5, undefined));
    assert.notDeepEqual(validationRows(1000, 0.1, 5), validationRows(1000, 0.1, 6));
  });

  it('holds out the same share of each class', () => {
    const strata = Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : 1));
    const held = [...validationRows(1000, 0.1, 1, strata)];
    assert.equal(held.length, 100);
    assert.equal(held.filter((i) => i >= 900).length, 10);
  });

  it('is off below 10,000 rows unless asked for: every epoch runs on every row', async () => {
    const trained = await trainClassifierImpl.run({ ...noisy, ...mlp, epochs: 5 }, ctx);
    assert.deepEqual(trained.training, { batchSize: 32, epochsRun: 5 });
    assert.equal(resolveEarlyStopping(undefined, 9_999), undefined);
    assert.equal(resolveEarlyStopping(false, 1_000_000), undefined);
    assert.deepEqual(resolveEarlyStopping(true, 100), { validationFraction: 0.1, patience: 10, minDelta: 1e-4 });
  });

  it('is on from 10,000 rows with a batch size chosen from the row count when none is given', async () => {
    const { batchSize: _, ...rest } = mlp;
    const trained = await trainClassifierImpl.run({ ...big, ...rest, hidden: [4], epochs: 2 }, ctx);
    assert.equal(trained.training!.batchSize, 64);
    assert.equal(trained.training!.earlyStopping!.validationRows, 1000);
    const model = await loadModel(ctx.artifacts, trained.model.uri);
    assert.equal(model.params.batchSize, 64);
    const off = await trainClassifierImpl.run({ ...big, ...rest, hidden: [4], epochs: 1, earlyStopping: false }, ctx);
    assert.deepEqual(off.training, { batchSize: 64, epochsRun: 1 });
  });

  it('keeps an explicit batchSize on big data', async () => {
    const trained = await trainClassifierImpl.run({ ...big, ...mlp, hidden: [4], epochs: 1, batchSize: 500 }, ctx);
    assert.equal(trained.training!.batchSize, 500);
    assert.equal((await loadModel(ctx.artifacts, trained.model.uri)).params.batchSize, 500);
  });

  it('chooses batches of 32 for small data, growing to 2048 for hundreds of thousands of rows', () => {
    assert.deepEqual(
      [100, 9_999, 10_000, 100_000, 375_000, 5_000_000].map(defaultBatchSize),
      [32, 32, 64, 512, 2048, 2048],
    );
  });

  for (const [option, name] of [
    [{ validationFraction: 0 }, 'earlyStopping.validationFraction'],
    [{ validationFraction: 1 }, 'earlyStopping.validationFraction'],
    [{ validationFraction: 1.5 }, 'earlyStopping.validationFraction'],
    [{ validationFraction: Number.NaN }, 'earlyStopping.validationFraction'],
    [{ patience: 0 }, 'earlyStopping.patience'],
    [{ patience: 2.5 }, 'earlyStopping.patience'],
    [{ minDelta: -1 }, 'earlyStopping.minDelta'],
    [{ validationFraction: 0.001 }, 'earlyStopping.validationFraction'],
  ] as const) {
    it(`rejects ${JSON.stringify(option)}, naming ${name}`, async () => {
      await assert.rejects(
        trainClassifierImpl.run({ ...noisy, ...mlp, earlyStopping: option }, ctx),
        (error: Error) => {
          assert.match(error.message, new RegExp(name.replace('.', '\\.')));
          assert.equal((error as { type?: string }).type, 'InvalidData');
          return true;
        },
      );
    });
  }

  it('rejects earlyStopping for logistic regression by L-BFGS, which has no epochs to stop', async () => {
    await assert.rejects(
      trainClassifierImpl.run({ ...noisy, ...mlp, architecture: 'logistic', hidden: [], earlyStopping: true }, ctx),
      /earlyStopping is for gradient descent/,
    );
  });
});

describe('train.regressor early stopping', () => {
  it("stops early and keeps the best epoch's weights, measured in standardized units", async () => {
    const { positiveClass: _, ...rest } = mlp;
    const trained = await trainRegressorImpl.run(
      { ...noisy, transform: noisy.regression, ...rest, label: 'v', earlyStopping: stopping },
      ctx,
    );
    const record = trained.training!.earlyStopping!;
    assert.ok(trained.training!.epochsRun < mlp.epochs);
    const model = await loadModel(ctx.artifacts, trained.model.uri);
    const held = [...validationRows(noisy.rows.length, stopping.validationFraction, mlp.seed)];
    const predicted = predictValues(
      model,
      held.map((i) => noisy.rows[i]!),
    );
    const { mean, std } = model.target!;
    const mse =
      held.reduce((sum, i, k) => sum + ((predicted[k]! - (noisy.rows[i]!.v as number)) / std) ** 2, 0) / held.length;
    assert.ok(Number.isFinite(mean));
    assert.ok(Math.abs(mse - record.validationLoss) < 1e-4, `stored ${mse}, best recorded ${record.validationLoss}`);
  });
});
