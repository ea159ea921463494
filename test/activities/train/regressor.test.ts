import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadDataset, writeDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { testContext } from '../../support/step-context';
import { evaluateRegressorImpl } from '../../../activities/evaluate/regressor';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import type { DatasetRef, TransformRef } from '../../../activities/refs';
import { loadModel } from '../../../activities/common/model/model';
import { predictValues } from '../../../activities/common/model/predict';
import { trainRegressorImpl } from '../../../activities/train/regressor';

// CPS 1985 wages (534 workers): predict the hourly wage from education, experience, sector, ...

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let wages: { train: DatasetRef; test: DatasetRef; transform: TransformRef };

before(async () => {
  ctx = await testContext();
  const raw = await readCsvImpl.run({ path: 'examples/data/cps-wages-1985.csv', label: 'wage' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.25, seed: 7 }, ctx);
  // age is education + experience + 6: leave it out rather than feed a collinear column.
  const { transform } = await fitFeaturesImpl.run(
    { dataset: split.train, label: 'wage', exclude: ['age'], bucketize: { experience: { quantiles: 5 } } },
    ctx,
  );
  wages = { train: split.train, test: split.test, transform };
});
after(async () => {
  await ctx.dispose();
});

const linear = {
  label: 'wage',
  architecture: 'linear' as const,
  epochs: 300,
  learningRate: 0.05,
  batchSize: 1024,
  seed: 7,
};
const mlp = {
  label: 'wage',
  architecture: 'mlp' as const,
  hidden: [8],
  epochs: 30,
  learningRate: 0.005,
  batchSize: 64,
  l2: 0.01,
  seed: 7,
};

describe('train.regressor and evaluate.regressor on CPS wages', () => {
  for (const params of [linear, mlp]) {
    it(`${params.architecture}: explains held-out wages (R2 well above 0) and is reproducible to the last digit`, async (t) => {
      const run = async () => {
        const trained = await trainRegressorImpl.run({ ...wages, ...params }, ctx);
        const evaluated = await evaluateRegressorImpl.run({ model: trained.model, dataset: wages.test }, ctx);
        return { trained, evaluated };
      };
      const a = await run();
      const b = await run();
      const m = a.evaluated.metrics;
      t.diagnostic(
        `${params.architecture} on ${a.trained.backend}: held-out R2 ${m.r2.toFixed(3)}, MAE ${m.mae.toFixed(3)}, RMSE ${m.rmse.toFixed(3)} over ${m.rows} rows; train R2 ${a.trained.trainMetrics.r2.toFixed(3)}`,
      );
      assert.ok(m.r2 > 0.2, `held-out R2 ${m.r2}`);
      assert.equal(m.rows, 134);
      assert.equal(a.trained.model.task, 'regression');
      assert.equal(a.trained.model.sha256, b.trained.model.sha256);
      assert.deepEqual(a.trained.trainMetrics, b.trained.trainMetrics);
      assert.deepEqual(b.evaluated.metrics, m);
      assert.equal(a.evaluated.report.sha256, b.evaluated.report.sha256);
    });
  }

  it('stores a model that predicts wages in dollars, and a report with the residual summary', async () => {
    const trained = await trainRegressorImpl.run({ ...wages, ...linear }, ctx);
    const model = await loadModel(ctx.artifacts, trained.model.uri);
    assert.deepEqual(
      model.layers.map((l) => l.activation),
      ['linear'],
    );
    assert.ok(model.target && model.target.mean > 8 && model.target.mean < 10, `mean wage ${model.target?.mean}`);
    const { rows } = await loadDataset(ctx.artifacts, wages.test);
    const predicted = predictValues(model, rows);
    assert.ok(predicted.every((v) => v > -5 && v < 30));
    const { metrics, report } = await evaluateRegressorImpl.run({ model: trained.model, dataset: wages.test }, ctx);
    const stored = await ctx.artifacts.readJson<{
      kind: string;
      metrics: unknown;
      residuals: {
        mean: number;
        quantiles: Record<string, number>;
        largest: Array<{ row: number; actual: number; predicted: number; residual: number }>;
      };
    }>(report.uri);
    assert.equal(stored.kind, 'kiln.regression-evaluation');
    assert.deepEqual(stored.metrics, metrics);
    const top = stored.residuals.largest[0]!;
    assert.equal(stored.residuals.largest.length, 10);
    assert.ok(Math.abs(top.residual - (top.actual - predicted[top.row - 1]!)) < 1e-12);
    assert.equal(
      Math.max(Math.abs(stored.residuals.quantiles.min!), Math.abs(stored.residuals.quantiles.max!)),
      Math.abs(top.residual),
    );
    const residuals = rows.map((r, i) => (r.wage as number) - predicted[i]!);
    assert.ok(Math.abs(stored.residuals.mean - residuals.reduce((a, b) => a + b, 0) / residuals.length) < 1e-12);
  });

  it('rejects a label that is not numeric, a row with no label, and hidden layers for linear regression', async () => {
    const columns = [
      { name: 'x', type: 'number' as const },
      { name: 'y', type: 'number' as const },
      { name: 'kind', type: 'string' as const },
    ];
    const data = await writeDataset(ctx.artifacts, columns, [
      [1, 2, 'a'],
      [2, null, 'b'],
      [3, 6, 'a'],
    ]);
    const byKind = await fitFeaturesImpl.run({ dataset: data, label: 'kind' }, ctx);
    await assert.rejects(
      trainRegressorImpl.run({ train: data, transform: byKind.transform, ...linear, label: 'kind' }, ctx),
      /the label 'kind' is a string column; a regressor needs a numeric label/,
    );
    const byY = await fitFeaturesImpl.run({ dataset: data, label: 'y' }, ctx);
    await assert.rejects(
      trainRegressorImpl.run({ train: data, transform: byY.transform, ...linear, label: 'y' }, ctx),
      /row 2 has no value for the label 'y'/,
    );
    await assert.rejects(
      trainRegressorImpl.run({ ...wages, ...linear, hidden: [4] }, ctx),
      /linear regression has no hidden layers/,
    );
  });

  it('evaluate.regressor refuses a classifier', async () => {
    const columns = [
      { name: 'x', type: 'number' as const },
      { name: 'c', type: 'string' as const },
    ];
    const data = await writeDataset(ctx.artifacts, columns, [
      [1, 'a'],
      [2, 'b'],
      [3, 'a'],
      [4, 'b'],
    ]);
    const { transform } = await fitFeaturesImpl.run({ dataset: data, label: 'c' }, ctx);
    const { trainClassifierImpl } = await import('../../../activities/train/classifier');
    const trained = await trainClassifierImpl.run(
      {
        train: data,
        transform,
        label: 'c',
        architecture: 'logistic',
        epochs: 2,
        learningRate: 0.1,
        batchSize: 4,
        seed: 1,
      },
      ctx,
    );
    await assert.rejects(
      evaluateRegressorImpl.run({ model: trained.model, dataset: data }, ctx),
      /is a binary classifier; score it with evaluate.classifier/,
    );
  });
});
