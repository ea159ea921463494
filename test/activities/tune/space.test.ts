import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gridTrials, randomTrials } from '../../../activities/tune/space';
import { tuneGridImpl } from '../../../activities/tune/grid';
import { tuneRandomImpl } from '../../../activities/tune/random';
import { tuneGrid, tuneRandom } from '../../../activities/tune/steps';
import { testContext } from '../../support/step-context';

const objective = { metric: 'rocAuc', goal: 'max' } as const;

describe('grid search', () => {
  it('expands to the cartesian product, the first parameter varying slowest', () => {
    const trials = gridTrials({ learningRate: [0.01, 0.05], l2: [0, 0.001], architecture: ['logistic'] });
    assert.deepEqual(trials, [
      { index: 0, params: { learningRate: 0.01, l2: 0, architecture: 'logistic' } },
      { index: 1, params: { learningRate: 0.01, l2: 0.001, architecture: 'logistic' } },
      { index: 2, params: { learningRate: 0.05, l2: 0, architecture: 'logistic' } },
      { index: 3, params: { learningRate: 0.05, l2: 0.001, architecture: 'logistic' } },
    ]);
  });

  it('names the experiment after the pipeline and node unless given, and carries the objective', async () => {
    const ctx = await testContext();
    try {
      const out = await tuneGridImpl.run(tuneGrid.input.parse({ space: { lr: [0.1, 0.2, 0.3] }, objective }), ctx);
      assert.equal(out.experiment, 'test.step');
      assert.deepEqual(out.objective, objective);
      assert.equal(out.trials.length, 3);
      const named = await tuneGridImpl.run(
        tuneGrid.input.parse({ space: { lr: [0.1] }, objective, experiment: 'lr-sweep' }),
        ctx,
      );
      assert.equal(named.experiment, 'lr-sweep');
    } finally {
      await ctx.dispose();
    }
  });

  it('refuses a grid of more than 1000 trials, naming the size of each parameter', async () => {
    const ctx = await testContext();
    const values = Array.from({ length: 11 }, (_, i) => i);
    await assert.rejects(
      tuneGridImpl.run({ space: { a: values, b: values, c: values }, objective }, ctx),
      (e: Error & { type?: string }) =>
        e.type === 'InvalidData' && /1331 trials \(a 11 × b 11 × c 11\); at most 1000/.test(e.message),
    );
    await ctx.dispose();
  });

  it('rejects an empty space or a parameter without values', () => {
    assert.equal(tuneGrid.input.safeParse({ space: {}, objective }).success, false);
    assert.equal(tuneGrid.input.safeParse({ space: { lr: [] }, objective }).success, false);
  });
});

describe('random search', () => {
  const space = {
    learningRate: { min: 0.0001, max: 1, log: true },
    dropout: { min: 0.1, max: 0.5 },
    epochs: { min: 10, max: 20, integer: true },
    architecture: { values: ['logistic', 'mlp'] },
  };

  it('draws count trials, the same ones again from the same seed and others from another', () => {
    const a = randomTrials(space, 50, 7);
    assert.equal(a.length, 50);
    assert.deepEqual(
      a.map((t) => t.index),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(randomTrials(space, 50, 7), a);
    assert.notDeepEqual(randomTrials(space, 50, 8), a);
  });

  it('keeps every draw within its bounds: whole numbers for integer ranges, only the listed values for choices', () => {
    const trials = randomTrials(space, 500, 1);
    for (const { params } of trials) {
      assert.ok((params.learningRate as number) >= 0.0001 && (params.learningRate as number) <= 1);
      assert.ok((params.dropout as number) >= 0.1 && (params.dropout as number) <= 0.5);
      assert.ok(Number.isInteger(params.epochs) && (params.epochs as number) >= 10 && (params.epochs as number) <= 20);
      assert.ok(['logistic', 'mlp'].includes(params.architecture as string));
    }
    assert.deepEqual(
      new Set(trials.map((t) => t.params.epochs)).size,
      11,
      'every whole number from 10 to 20, both ends included',
    );
    assert.deepEqual(new Set(trials.map((t) => t.params.architecture)).size, 2);
  });

  it('spreads a log-scale range evenly over orders of magnitude, a linear one over its width', () => {
    const trials = randomTrials({ log: { min: 0.0001, max: 1, log: true }, linear: { min: 0.0001, max: 1 } }, 2000, 3);
    const share = (name: string, below: number) =>
      trials.filter((t) => (t.params[name] as number) < below).length / trials.length;
    // Four decades, as many draws in each: a quarter below 0.001, half below 0.01.
    assert.ok(Math.abs(share('log', 0.001) - 0.25) < 0.04, `log share below 0.001: ${share('log', 0.001)}`);
    assert.ok(Math.abs(share('log', 0.01) - 0.5) < 0.04, `log share below 0.01: ${share('log', 0.01)}`);
    assert.ok(share('linear', 0.01) < 0.03, `linear share below 0.01: ${share('linear', 0.01)}`);
  });

  it('rejects a range whose min exceeds its max, or a log range that reaches 0', () => {
    const input = (dimension: unknown) => ({ space: { lr: dimension }, count: 3, seed: 1, objective });
    assert.equal(tuneRandom.input.safeParse(input({ min: 0, max: 1 })).success, true);
    assert.match(
      JSON.stringify(tuneRandom.input.safeParse(input({ min: 2, max: 1 })).error?.issues),
      /min must not exceed max/,
    );
    assert.match(
      JSON.stringify(tuneRandom.input.safeParse(input({ min: 0, max: 1, log: true })).error?.issues),
      /log-scale range needs min > 0/,
    );
    assert.equal(tuneRandom.input.safeParse(input({ min: 0.2, max: 0.8, integer: true })).success, false);
  });

  it('returns count trials from the step, reproducibly', async () => {
    const ctx = await testContext();
    const input = tuneRandom.input.parse({ space, count: 6, seed: 42, objective: { metric: 'logLoss', goal: 'min' } });
    const a = await tuneRandomImpl.run(input, ctx);
    const b = await tuneRandomImpl.run(input, ctx);
    assert.equal(a.trials.length, 6);
    assert.deepEqual(a.trials, b.trials);
    await ctx.dispose();
  });
});
