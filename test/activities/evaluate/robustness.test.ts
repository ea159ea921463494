import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { mulberry32 } from '../../../activities/common/random';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { loadModel } from '../../../activities/common/model/model';
import { labelledRows, scoreRows } from '../../../activities/common/model/scored-rows';
import { testContext } from '../../support/step-context';
import type { DatasetRef, ModelRef } from '../../../activities/refs';
import { evaluateRobustnessImpl, type RobustnessReportArtifact } from '../../../activities/evaluate/robustness';
import { robustness, type RobustnessReport } from '../../../activities/evaluate/robustness-report';
import { dataset, linearModel, logisticSpec, storeModel } from '../../fixtures/models';

type Ctx = Awaited<ReturnType<typeof testContext>>;

// A model over a numeric, a categorical and a bucketized feature, to compare the step's report
// with the one rows give: the step reads columns (NaN for a missing number), rows hold null.
const mixedModel = (ctx: Ctx): Promise<ModelRef> =>
  storeModel(
    ctx.artifacts,
    logisticSpec({
      transformVersion: 2,
      features: [
        { name: 'x', type: 'numeric', mean: 0.1, std: 1.7 },
        {
          name: 'region',
          type: 'categorical',
          categories: ['north', 'south'],
          impute: { strategy: 'constant', value: 'north' },
        },
        { name: 'age', type: 'bucketized', boundaries: [30, 50], impute: { strategy: 'median', value: 41 } },
      ],
      weights: [[1.3], [0.4], [-0.6], [-0.5], [0.1], [0.7]],
      bias: [0.05],
    }),
  );

const defaults = {
  noise: 0.05,
  missingRate: 0.1,
  threshold: 0.5,
  sliceBy: [],
  worstBy: 'accuracy' as const,
  minSliceSize: 10,
  gates: [],
};

describe('evaluate.robustness', () => {
  let ctx: Ctx;
  let model: ModelRef;
  let data: DatasetRef;
  before(async () => {
    ctx = await testContext();
    model = await linearModel(ctx.artifacts);
    // x uniform on [-3, 3]; the label agrees with sign(x) except for 10% label noise in region 'south'.
    const random = mulberry32(3);
    const rows = Array.from({ length: 400 }, (_, i) => {
      const x = -3 + 6 * random();
      const region = i % 2 === 0 ? 'north' : 'south';
      const flip = region === 'south' && random() < 0.2;
      return { x, region, y: x >= 0 !== flip ? 'yes' : 'no' };
    });
    data = await dataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'region', type: 'string' },
        { name: 'y', type: 'string' },
      ],
      rows,
    );
  });
  after(async () => {
    await ctx.dispose();
  });

  it('flips nothing and loses nothing without noise or missing values', async () => {
    const out = await evaluateRobustnessImpl.run(
      { ...defaults, model, dataset: data, seed: 1, noise: 0, missingRate: 0 },
      ctx,
    );
    assert.equal(out.metrics.noiseFlipRate, 0);
    assert.equal(out.metrics.noiseDropAccuracy, 0);
    assert.equal(out.metrics.missingFlipRate, 0);
    assert.equal(out.metrics.rows, 400);
  });

  it('counts the rows whose prediction flips under noise and missing values, the same for the same seed', async () => {
    const a = await evaluateRobustnessImpl.run(
      { ...defaults, model, dataset: data, seed: 1, noise: 0.5, missingRate: 0.2 },
      ctx,
    );
    const b = await evaluateRobustnessImpl.run(
      { ...defaults, model, dataset: data, seed: 1, noise: 0.5, missingRate: 0.2 },
      ctx,
    );
    assert.deepEqual(b, a);
    // Noise of 0.5 flips rows with |x| near 0; a missing x is imputed to 0, scored 0.5, selected: rows with x < 0 flip.
    assert.ok(
      a.metrics.noiseFlipRate > 0 && a.metrics.noiseFlipRate < 0.3,
      `noise flip rate ${a.metrics.noiseFlipRate}`,
    );
    const report = await ctx.artifacts.readJson<RobustnessReportArtifact>(a.report.uri);
    assert.equal(report.missing.cells, 80);
    assert.ok(
      a.metrics.missingFlipRate > 0.05 && a.metrics.missingFlipRate <= 0.2,
      `missing flip rate ${a.metrics.missingFlipRate}`,
    );
    assert.deepEqual(report.stdSource, { x: 'transform' });
    const c = await evaluateRobustnessImpl.run(
      { ...defaults, model, dataset: data, seed: 2, noise: 0.5, missingRate: 0.2 },
      ctx,
    );
    assert.notEqual(c.report.sha256, a.report.sha256);
  });

  it('names the worst slice', async () => {
    const out = await evaluateRobustnessImpl.run(
      { ...defaults, model, dataset: data, seed: 1, sliceBy: ['region', 'x'] },
      ctx,
    );
    assert.equal(out.worstSlice?.column, 'region');
    assert.equal(out.worstSlice?.slice, 'south');
    assert.equal(out.worstSlice?.rows, 200);
    assert.ok(out.worstSlice!.value < 0.9, `south accuracy ${out.worstSlice!.value}`);
    const report = await ctx.artifacts.readJson<RobustnessReportArtifact>(out.report.uri);
    assert.equal(report.slices[1]!.kind, 'quantile');
    assert.equal(report.slices[1]!.slices.length, 4);
  });

  it('reports, to the bit, what the row-wise report gives for the same seed', async () => {
    const mixed = await mixedModel(ctx);
    const random = mulberry32(11);
    const rows = Array.from({ length: 300 }, (_, i) => {
      const x = random() < 0.1 ? null : -3 + 6 * random();
      const age = random() < 0.1 ? null : Math.round(18 + 60 * random());
      const region = i % 7 === 0 ? null : i % 2 === 0 ? 'north' : 'south';
      return { x, age, region, y: random() < 1 / (1 + Math.exp(-2 * (x ?? 0))) ? 'yes' : 'no' };
    });
    const mixedData = await dataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'age', type: 'integer' },
        { name: 'region', type: 'string' },
        { name: 'y', type: 'string' },
      ],
      rows,
    );
    const out = await evaluateRobustnessImpl.run(
      {
        ...defaults,
        model: mixed,
        dataset: mixedData,
        seed: 5,
        noise: 0.3,
        missingRate: 0.15,
        sliceBy: ['region', { column: 'age', bins: 3 }, 'x'],
      },
      ctx,
    );
    const stored = await ctx.artifacts.readJson<RobustnessReportArtifact>(out.report.uri);
    assert.deepEqual(stored.stdSource, { x: 'transform', age: 'data' });

    // The report as the step computed it before it read columns: rows, scored one by one.
    const spec = await loadModel(ctx.artifacts, mixed.uri);
    const held = await labelledRows(ctx.artifacts, spec, mixedData, 'evaluate.robustness');
    const ages = (await loadDataset(ctx.artifacts, mixedData)).rows
      .map((r) => r.age)
      .filter((v): v is number => typeof v === 'number');
    const mean = ages.reduce((a, b) => a + b, 0) / ages.length;
    const byRows = await robustness({
      rows: held.rows,
      labels: held.labels,
      predict: (batch) => scoreRows(spec, batch, 'evaluate.robustness').map((p) => p[1]!),
      std: { x: 1.7, age: Math.sqrt(ages.reduce((a, v) => a + (v - mean) ** 2, 0) / ages.length) },
      categorical: ['region'],
      random: mulberry32(5),
      threshold: 0.5,
      noise: { scale: 0.3 },
      missing: { fraction: 0.15 },
      slices: [
        { column: 'region', kind: 'categorical' },
        { column: 'age', kind: 'quantile', bins: 3 },
        { column: 'x', kind: 'quantile', bins: 4 },
      ],
      worstBy: 'accuracy',
      minSliceSize: 10,
    });
    const stepReport = Object.fromEntries(
      Object.keys(byRows).map((key) => [key, stored[key as keyof RobustnessReport]]),
    );
    assert.deepEqual(stepReport, JSON.parse(JSON.stringify(byRows)));
    assert.ok(byRows.missing.cells > 0 && byRows.noise.flipRate! > 0, 'the perturbations change scores');
    // Values the row-wise step gave before the step read columns.
    assert.deepEqual(
      [stored.noise.flipRate, stored.noise.meanAbsChange, stored.missing.flipRate, stored.missing.meanAbsChange],
      [0.06, 0.04847988796290918, 0.07333333333333333, 0.05410494856030567],
    );
    assert.deepEqual(stored.worstSlice, {
      column: 'x',
      slice: '(missing)',
      count: 41,
      metrics: { accuracy: 0.3902439024390244, roc_auc: 0.33455882352941174 },
    });
  });

  it('names a feature the data lacks as the row-wise report did', async () => {
    const noX = await dataset(
      ctx.artifacts,
      [
        { name: 'region', type: 'string' },
        { name: 'y', type: 'string' },
      ],
      [
        { region: 'north', y: 'yes' },
        { region: 'south', y: 'no' },
      ],
    );
    await assert.rejects(
      evaluateRobustnessImpl.run({ ...defaults, model, dataset: noX, seed: 1 }, ctx),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(
          error.message,
          "evaluate.robustness: robustness: numeric column 'x' is not in the rows, which have region, y",
        );
        return true;
      },
    );
  });

  it('fails a flip-rate gate with GateFailed naming metric, value and bar', async () => {
    await assert.rejects(
      evaluateRobustnessImpl.run(
        { ...defaults, model, dataset: data, seed: 1, noise: 0.5, gates: [{ metric: 'noise_flip_rate', max: 0.05 }] },
        ctx,
      ),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'GateFailed');
        assert.match(error.message, /noise_flip_rate 0\.\d{3} is above the gate 0\.050/);
        return true;
      },
    );
    const out = await evaluateRobustnessImpl.run(
      {
        ...defaults,
        model,
        dataset: data,
        seed: 1,
        sliceBy: ['region'],
        gates: [
          { metric: 'noise_flip_rate', max: 0.05 },
          { metric: 'worst_slice_accuracy', min: 0.7 },
        ],
      },
      ctx,
    );
    assert.deepEqual(
      out.outcomes.map((o) => o.passed),
      [true, true],
    );
  });
});
