import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { testContext } from '../../support/step-context';
import { writeDataset, type Row } from '../../../activities/common/dataset/dataset';
import { writeVersion1Dataset } from '../../support/version1-dataset';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { checkGatesImpl } from '../../../activities/validate/gates';
import { evaluateClassifierImpl, type EvaluationReport } from '../../../activities/evaluate/classifier';
import { modelRef } from '../../../activities/refs';
import type { ModelSpec } from '../../../activities/common/model/model';
import { linearModel } from '../../fixtures/models';

type Ctx = Awaited<ReturnType<typeof testContext>>;

/** readCsv → split → features.fit → train.classifier (logistic) → evaluate.classifier, as a pipeline would. */
async function creditRisk(ctx: Ctx) {
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const { train, test } = await splitImpl.run(
    { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' },
    ctx,
  );
  const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'class' }, ctx);
  const trained = await trainClassifierImpl.run(
    {
      train,
      transform,
      label: 'class',
      positiveClass: 'bad',
      architecture: 'logistic',
      epochs: 100,
      learningRate: 0.05,
      batchSize: 1024,
      l2: 0.001,
      seed: 7,
    },
    ctx,
  );
  const evaluation = await evaluateClassifierImpl.run({ model: trained.model, dataset: test }, ctx);
  return { test, trained, evaluation };
}

describe('credit-risk logistic regression on the German credit data', () => {
  let first: Ctx;
  let second: Ctx;
  before(async () => {
    [first, second] = await Promise.all([testContext(), testContext()]);
  });
  after(async () => {
    await Promise.all([first.dispose(), second.dispose()]);
  });

  it('reaches a held-out ROC AUC of at least 0.75 and gives identical metrics on a second run', async () => {
    const a = await creditRisk(first);
    assert.equal(a.test.rows, 200);
    assert.deepEqual(a.trained.model.classes, ['good', 'bad']);
    const m = a.evaluation.metrics;
    assert.ok(m.rocAuc >= 0.75, `held-out ROC AUC ${m.rocAuc}`);
    assert.equal(m.rows, 200);
    assert.ok(m.accuracy > 0.7, `accuracy ${m.accuracy}`);

    const report = await first.artifacts.readJson<EvaluationReport>(a.evaluation.report.uri);
    assert.equal(report.positiveClass, 'bad');
    assert.deepEqual(report.confusionMatrix.classes, ['good', 'bad']);
    assert.deepEqual(
      report.confusionMatrix.counts.map((row) => row[0]! + row[1]!),
      [140, 60],
    );
    const roc = report.roc[0]!;
    assert.equal(roc.thresholds[0], null);
    assert.deepEqual([roc.fpr.at(-1), roc.tpr.at(-1)], [1, 1]);

    const b = await creditRisk(second);
    assert.deepEqual(b.evaluation.metrics, a.evaluation.metrics);
    assert.deepEqual(b.trained.trainMetrics, a.trained.trainMetrics);
    assert.equal(b.trained.model.sha256, a.trained.model.sha256);
    assert.equal(b.evaluation.report.sha256, a.evaluation.report.sha256);
  });
});

describe('evaluate.classifier', () => {
  let ctx: Ctx;
  before(async () => {
    ctx = await testContext();
  });
  after(async () => {
    await ctx.dispose();
  });

  const columns = [
    { name: 'x', type: 'number' as const },
    { name: 'y', type: 'string' as const },
  ];
  const train3 = Array.from({ length: 90 }, (_, i) => [(i % 3) * 4 + (i % 7) / 7, ['a', 'b', 'c'][i % 3]!]);

  async function model(rows: Array<Array<number | string>>) {
    const train = await writeDataset(ctx.artifacts, columns, rows);
    const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y' }, ctx);
    return (
      await trainClassifierImpl.run(
        {
          train,
          transform,
          label: 'y',
          architecture: 'mlp',
          hidden: [8],
          epochs: 150,
          learningRate: 0.05,
          batchSize: 1000,
          seed: 1,
        },
        ctx,
      )
    ).model;
  }

  it('reports macro metrics, per-class ROC curves and the confusion matrix for three classes', async () => {
    const trained = await model(train3);
    const dataset = await writeDataset(ctx.artifacts, columns, [
      [0.2, 'a'],
      [4.5, 'b'],
      [8.1, 'c'],
      [3.9, 'b'],
      [7.7, 'c'],
      [0.1, 'a'],
    ]);
    const { metrics, report } = await evaluateClassifierImpl.run({ model: trained, dataset }, ctx);
    assert.equal(metrics.rows, 6);
    assert.equal(metrics.accuracy, 1);
    assert.equal(metrics.rocAuc, 1);
    const stored = await ctx.artifacts.readJson<EvaluationReport>(report.uri);
    assert.deepEqual(stored.confusionMatrix.counts, [
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 2],
    ]);
    assert.deepEqual(
      stored.roc.map((r) => r.class),
      ['a', 'b', 'c'],
    );
    assert.equal(stored.threshold, null);
  });

  it('rejects a class the model was not trained on, and data missing a class', async () => {
    const trained = await model(train3);
    const unseen = await writeDataset(ctx.artifacts, columns, [
      [0.2, 'a'],
      [1, 'z'],
    ]);
    await assert.rejects(
      evaluateClassifierImpl.run({ model: trained, dataset: unseen }, ctx),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === 'InvalidData' &&
        /row 2 has the class 'z'/.test(error.message),
    );
    const partial = await writeDataset(ctx.artifacts, columns, [
      [0.2, 'a'],
      [4, 'b'],
    ]);
    await assert.rejects(evaluateClassifierImpl.run({ model: trained, dataset: partial }, ctx), /no rows of class 'c'/);
  });

  it('names the first bad row, whether its label or a feature is what is wrong', async () => {
    const trained = await model(train3);
    const good = Array.from({ length: 60_000 }, (_, i): Row => ({ x: (i % 3) * 4, y: ['a', 'b', 'c'][i % 3]! }));
    const labelFirst = good.map((r, i) => (i === 51_000 ? { ...r, y: 'z' } : i === 52_000 ? { ...r, x: 'far' } : r));
    const featureFirst = good.map((r, i) => (i === 51_000 ? { ...r, x: 'far' } : i === 52_000 ? { ...r, y: null } : r));
    const fails = (pattern: RegExp) => (error: unknown) =>
      error instanceof ApplicationFailure && error.type === 'InvalidData' && pattern.test(error.message);
    await assert.rejects(
      evaluateClassifierImpl.run(
        { model: trained, dataset: await writeVersion1Dataset(ctx.artifacts, columns, labelFirst) },
        ctx,
      ),
      fails(/^row 51001 has the class 'z'/),
    );
    await assert.rejects(
      evaluateClassifierImpl.run(
        { model: trained, dataset: await writeVersion1Dataset(ctx.artifacts, columns, featureFirst) },
        ctx,
      ),
      fails(/^row 51001: feature 'x': expected a number, got "far"/),
    );
  });
});

describe('evaluate.classifier probability metrics', () => {
  let ctx: Ctx;
  before(async () => {
    ctx = await testContext();
  });
  after(async () => {
    await ctx.dispose();
  });

  // sigmoid(x) with x = logit(p) scores each row with exactly p; expected values from scikit-learn 1.9.1:
  // average_precision_score, brier_score_loss, calibration_curve(n_bins=10).
  const labels = [0, 0, 1, 1, 0, 1, 1, 0, 1, 1];
  const scores = [0.12, 0.35, 0.42, 0.82, 0.55, 0.65, 0.95, 0.22, 0.33, 0.75];
  const close = (actual: number, expected: number) =>
    assert.ok(Math.abs(actual - expected) <= 1e-9, `expected ${expected}, got ${actual}`);

  async function evaluated() {
    const model = await linearModel(ctx.artifacts);
    const dataset = await writeDataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'y', type: 'string' },
      ],
      scores.map((p, i) => [Math.log(p / (1 - p)), labels[i] ? 'yes' : 'no']),
    );
    return evaluateClassifierImpl.run({ model, dataset }, ctx);
  }

  it('reports PR AUC, Brier score and expected calibration error of the positive class as scikit-learn does', async () => {
    const { metrics } = await evaluated();
    close(metrics.prAuc, 0.9305555555555555);
    close(metrics.brierScore, 0.1493);
    close(metrics.calibrationError, 0.262);
  });

  it('puts the reliability curve beside the ROC curve in the report, every bin included', async () => {
    const { report } = await evaluated();
    const stored = await ctx.artifacts.readJson<EvaluationReport>(report.uri);
    assert.equal(stored.version, 2);
    assert.deepEqual(
      stored.calibration.map((c) => c.class),
      stored.roc.map((r) => r.class),
    );
    const curve = stored.calibration[0]!;
    assert.equal(curve.class, 'yes');
    close(curve.ece, 0.262);
    assert.deepEqual(
      curve.bins.map((b) => b.count),
      [0, 1, 1, 2, 1, 1, 1, 1, 1, 1],
    );
    assert.deepEqual([curve.bins[0]!.meanPredicted, curve.bins[0]!.fractionPositive], [null, null]);
    const filled = curve.bins.filter((b) => b.count > 0);
    filled.forEach((b, i) => close(b.meanPredicted!, [0.12, 0.22, 0.34, 0.42, 0.55, 0.65, 0.75, 0.82, 0.95][i]!));
    assert.deepEqual(
      filled.map((b) => b.fractionPositive),
      [0, 0, 0.5, 1, 0, 1, 1, 1, 1],
    );
  });

  it('refuses a model whose output is not a probability, naming the row', async () => {
    // inf − inf in the second layer: the forward pass gives NaN for any x other than 0.
    const spec = await ctx.artifacts.readJson<ModelSpec>((await linearModel(ctx.artifacts)).uri);
    spec.layers = [
      { weights: [[1e308, -1e308]], bias: [0, 0], activation: 'linear' },
      { weights: [[1e10], [1e10]], bias: [0], activation: 'sigmoid' },
    ];
    const broken = modelRef.parse({
      kind: 'model',
      ...(await ctx.artifacts.putJson(spec)),
      task: 'binary',
      architecture: 'mlp',
      label: 'y',
      classes: ['no', 'yes'],
      backend: 'test',
    });
    const dataset = await writeDataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'y', type: 'string' },
      ],
      [
        [5, 'yes'],
        [-5, 'no'],
      ],
    );
    await assert.rejects(
      evaluateClassifierImpl.run({ model: broken, dataset }, ctx),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === 'InvalidData' &&
        /row 1: the model gives class 'no' the probability NaN/.test(error.message),
    );
  });

  it('lets validate.gates gate on pr_auc, brier_score and calibration_error', async () => {
    const { metrics } = await evaluated();
    const { outcomes } = await checkGatesImpl.run(
      {
        metrics,
        gates: [
          { metric: 'pr_auc', min: 0.9 },
          { metric: 'brier_score', max: 0.2 },
          { metric: 'calibration_error', max: 0.3 },
        ],
      },
      ctx,
    );
    assert.deepEqual(
      outcomes.map((o) => [o.metric, o.passed]),
      [
        ['pr_auc', true],
        ['brier_score', true],
        ['calibration_error', true],
      ],
    );
    await assert.rejects(
      checkGatesImpl.run({ metrics, gates: [{ metric: 'calibration_error', max: 0.1 }] }, ctx),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.type === 'GateFailed' &&
        /calibration_error 0\.262 is above the gate 0\.100/.test(error.message),
    );
  });
});
