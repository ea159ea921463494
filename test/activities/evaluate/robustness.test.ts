import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { mulberry32 } from '../../../activities/common/random';
import { testContext } from '../../support/step-context';
import type { DatasetRef, ModelRef } from '../../../activities/refs';
import { evaluateRobustnessImpl, type RobustnessReportArtifact } from '../../../activities/evaluate/robustness';
import { dataset, linearModel } from '../../fixtures/models';

type Ctx = Awaited<ReturnType<typeof testContext>>;

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
