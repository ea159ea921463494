import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectTrialImpl } from '../../../activities/tune/select';
import { testContext } from '../../support/step-context';
import type { ModelRef } from '../../../activities/refs';

const model = (n: number): ModelRef => ({
  kind: 'model',
  uri: `artifact:sha256:${String(n).repeat(64).slice(0, 64)}`,
  sha256: String(n).repeat(64).slice(0, 64),
  size: 10,
  task: 'binary',
  architecture: 'logistic',
  label: 'class',
  classes: ['good', 'bad'],
  backend: 'cpu',
});
const trial = (index: number, metrics: Record<string, number>) => ({
  index,
  params: { lr: index / 10 },
  metrics,
  model: model(index),
});

describe('tune.select', () => {
  const trials = [
    trial(0, { rocAuc: 0.71, logLoss: 0.55 }),
    trial(1, { rocAuc: 0.78, logLoss: 0.6 }),
    trial(2, { rocAuc: 0.74, logLoss: 0.49 }),
  ];

  it('picks the highest value for max and ranks every trial best first', async () => {
    const ctx = await testContext();
    const out = await selectTrialImpl.run({ trials, objective: { metric: 'rocAuc', goal: 'max' } }, ctx);
    assert.deepEqual(out.best, trials[1]);
    assert.deepEqual(
      out.ranking.map((r) => [r.index, r.value]),
      [
        [1, 0.78],
        [2, 0.74],
        [0, 0.71],
      ],
    );
    assert.deepEqual(out.ranking[0]!.params, { lr: 0.1 });
    await ctx.dispose();
  });

  it('picks the lowest value for min', async () => {
    const ctx = await testContext();
    const out = await selectTrialImpl.run({ trials, objective: { metric: 'logLoss', goal: 'min' } }, ctx);
    assert.equal(out.best.index, 2);
    assert.deepEqual(
      out.ranking.map((r) => r.index),
      [2, 0, 1],
    );
    await ctx.dispose();
  });

  it('breaks ties by the lower trial index, whatever order the trials come in', async () => {
    const ctx = await testContext();
    const tied = [trial(3, { f1: 0.5 }), trial(1, { f1: 0.5 }), trial(2, { f1: 0.4 }), trial(0, { f1: 0.4 })];
    assert.deepEqual(
      (await selectTrialImpl.run({ trials: tied, objective: { metric: 'f1', goal: 'max' } }, ctx)).ranking.map(
        (r) => r.index,
      ),
      [1, 3, 0, 2],
    );
    assert.deepEqual(
      (await selectTrialImpl.run({ trials: tied, objective: { metric: 'f1', goal: 'min' } }, ctx)).ranking.map(
        (r) => r.index,
      ),
      [0, 2, 1, 3],
    );
    await ctx.dispose();
  });

  it('fails without retry when a trial lacks the metric, naming the trial and the metrics it has', async () => {
    const ctx = await testContext();
    await assert.rejects(
      selectTrialImpl.run(
        {
          trials: [trial(0, { rocAuc: 0.7 }), trial(1, { accuracy: 0.8 })],
          objective: { metric: 'rocAuc', goal: 'max' },
        },
        ctx,
      ),
      (e: Error & { type?: string; nonRetryable?: boolean }) =>
        e.type === 'InvalidData' &&
        e.nonRetryable === true &&
        /trial 1 has no metric 'rocAuc' to maximize; it has accuracy/.test(e.message),
    );
    await ctx.dispose();
  });
});
