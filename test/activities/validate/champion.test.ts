import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '../../../store';
import { storeContext } from '../../support/store-context';
import type { DatasetRef, ModelRef } from '../../../activities/refs';
import { validateChampionImpl } from '../../../activities/validate/champion';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import type { ModelSpec } from '../../../activities/common/model/model';
import { scoreRows } from '../../../activities/common/model/scored-rows';
import { binaryMetrics, multiclassMetrics } from '../../../activities/common/metrics/classification';
import type { ArtifactStore } from '../../../activities/artifacts/store';
import { dataset, linearModel, logisticSpec, storeModel } from '../../fixtures/models';
import { SYSTEM } from '../../../store/access';

type Ctx = Awaited<ReturnType<typeof storeContext>>;

// A model on the numeric features named, one weight row per feature: sigmoid for two classes, else softmax.
async function softmaxModel(
  artifacts: ArtifactStore,
  features: string[],
  classes: string[],
  weights: number[][],
): Promise<{ ref: ModelRef; spec: ModelSpec }> {
  const spec = logisticSpec({
    features: features.map((name) => ({ name, type: 'numeric', mean: 0, std: 1 })),
    weights,
    classes,
  });
  return { ref: await storeModel(artifacts, spec), spec };
}

describe('validate.champion', () => {
  let store: Store;
  let ctx: Ctx;
  let holdout: DatasetRef;
  let sharp: ModelRef;
  let blunt: ModelRef;
  let inverted: ModelRef;
  before(async () => {
    ctx = await storeContext();
    store = ctx.full;
    // Labels follow sign(x), except that x in [0, 1) is labelled 'no', so no model here is perfect.
    const rows = Array.from({ length: 40 }, (_, i) => {
      const x = (i - 19.5) / 4;
      return { x, y: x >= 1 ? 'yes' : 'no' };
    });
    holdout = await dataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'y', type: 'string' },
      ],
      rows,
    );
    sharp = await linearModel(ctx.artifacts, { weight: 2 });
    blunt = await linearModel(ctx.artifacts, { weight: 1, bias: 1.5 });
    inverted = await linearModel(ctx.artifacts, { weight: -1 });
  });
  after(async () => {
    await ctx.dispose();
  });

  const champion = async (name: string, model: ModelRef) => {
    await store.artifacts.recordArtifact(SYSTEM, { sha256: model.sha256, kind: 'model', size: model.size });
    const v = await store.registry.registerModelVersion(SYSTEM, { model: name, artifactSha256: model.sha256 });
    await store.registry.promote(SYSTEM, name, v.version, 'production');
    return v.version;
  };
  const input = (
    model: ModelRef,
    registeredName: string,
    metric: 'roc_auc' | 'accuracy' | 'log_loss' = 'accuracy',
    margin = 0,
  ) => ({ model, dataset: holdout, registeredName, alias: 'production', metric, margin });

  it('passes and says so when no version holds the alias yet', async () => {
    const out = await validateChampionImpl.run(input(inverted, 'nobody-yet'), ctx);
    assert.equal(out.passed, true);
    assert.equal(out.champion, null);
    assert.match(out.message, /no version of 'nobody-yet' holds the alias 'production' yet/);
  });

  it('fails with GateFailed naming both values and the margin when the challenger is worse by more than the margin', async () => {
    await champion('credit', sharp);
    await assert.rejects(validateChampionImpl.run(input(blunt, 'credit', 'accuracy', 0.05), ctx), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'GateFailed');
      assert.equal(error.nonRetryable, true);
      // sharp (x >= 0) gets 36 of 40 right; blunt (x >= -1.5) also selects 6 'no' rows: 30 of 40.
      assert.match(
        error.message,
        /accuracy 0\.750 is below the champion bar 0\.850 \(champion 0\.900 - margin 0\.050\)/,
      );
      return true;
    });
  });

  it('passes a challenger within the margin, reporting the champion version and both values', async () => {
    const out = await validateChampionImpl.run(input(blunt, 'credit', 'accuracy', 0.2), ctx);
    assert.deepEqual(
      { passed: out.passed, champion: out.champion, challenger: out.challenger },
      {
        passed: true,
        champion: { version: 1, sha256: sharp.sha256, value: 0.9 },
        challenger: 0.75,
      },
    );
    const lower = await validateChampionImpl.run(input(sharp, 'credit', 'log_loss'), ctx);
    assert.equal(lower.bar, lower.champion!.value);
  });

  it('scores a champion on a feature the challenger does not read, as row by row', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => {
      const x = (i - 29.5) / 8;
      const z = Math.sin(i) * 2;
      return { x, z, y: x + 0.5 * z >= 0 ? 'yes' : 'no' };
    });
    const data = await dataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'z', type: 'number' },
        { name: 'y', type: 'string' },
      ],
      rows,
    );
    const challenger = await softmaxModel(ctx.artifacts, ['x'], ['no', 'yes'], [[1.5]]);
    const holder = await softmaxModel(ctx.artifacts, ['z'], ['no', 'yes'], [[0.8]]);
    await champion('by-z', holder.ref);
    const out = await validateChampionImpl.run({ ...input(challenger.ref, 'by-z', 'roc_auc', 1), dataset: data }, ctx);
    const stored = (await loadDataset(ctx.artifacts, data)).rows;
    const labels = stored.map((r) => (r.y === 'yes' ? 1 : 0));
    const auc = (spec: ModelSpec) =>
      binaryMetrics(
        labels,
        scoreRows(spec, stored, 'test').map((p) => p[1]!),
      ).rocAuc;
    assert.equal(out.challenger, auc(challenger.spec));
    assert.equal(out.champion!.value, auc(holder.spec));
    assert.ok(out.champion!.value < out.challenger, 'z alone ranks worse than x');
  });

  it('compares multiclass models by the metrics their rows give', async () => {
    const classes = ['a', 'b', 'c'];
    const rows = Array.from({ length: 45 }, (_, i) => {
      const x = (i - 22) / 6;
      return { x, y: classes[i % 7 === 0 ? 1 : x < -1 ? 0 : x < 1 ? 1 : 2]! };
    });
    const data = await dataset(
      ctx.artifacts,
      [
        { name: 'x', type: 'number' },
        { name: 'y', type: 'string' },
      ],
      rows,
    );
    const challenger = await softmaxModel(ctx.artifacts, ['x'], classes, [[-2, 0, 2]]);
    const holder = await softmaxModel(ctx.artifacts, ['x'], classes, [[-1, 0, 1]]);
    await champion('three', holder.ref);
    const out = await validateChampionImpl.run(
      { ...input(challenger.ref, 'three', 'log_loss', 1), dataset: data },
      ctx,
    );
    const stored = (await loadDataset(ctx.artifacts, data)).rows;
    const labels = stored.map((r) => classes.indexOf(r.y as string));
    const logLoss = (spec: ModelSpec) => multiclassMetrics(labels, scoreRows(spec, stored, 'test')).logLoss;
    assert.equal(out.challenger, logLoss(challenger.spec));
    assert.equal(out.champion!.value, logLoss(holder.spec));
  });

  it('fails clearly without a store', async () => {
    const bare = { ...ctx, store: undefined };
    await assert.rejects(
      validateChampionImpl.run(input(sharp, 'credit'), bare),
      /registry steps need a store; start the worker with one/,
    );
  });
});
