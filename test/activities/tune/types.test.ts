import assert from 'node:assert/strict';
import { it } from 'node:test';
import { z } from 'zod';
import { compile, defineStep, pipeline, PlanError, type Handle } from '../../../dsl';
import { gridSearch, randomSearch } from '../../../activities/tune/steps';

// Compiled by `tsc` in the test command: if the trial params stop being typed by the space, the build fails.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type Of<H> = H extends Handle<infer T> ? T : never;

const fit = defineStep({
  name: 'types.fit',
  version: '1',
  input: z.object({ learningRate: z.number(), architecture: z.enum(['logistic', 'mlp']), epochs: z.number().int() }),
  output: z.object({ loss: z.number() }),
});
const objective = { metric: 'loss', goal: 'min' } as const;

const grid = { learningRate: [0.01, 0.1], architecture: ['logistic', 'mlp'] } as const;
export const typedGrid = pipeline({ name: 'typed-grid' }, (p) => {
  const search = p.step(gridSearch(grid), { space: grid, objective });
  return p.map(search.trials, (trial) => {
    type _lr = Expect<Equal<Of<typeof trial.params.learningRate>, 0.01 | 0.1>>;
    type _arch = Expect<Equal<Of<typeof trial.params.architecture>, 'logistic' | 'mlp'>>;
    // @ts-expect-error the space has no parameter 'momentum'
    void trial.params.momentum;
    const wrong = { learningRate: trial.params.architecture, architecture: trial.params.architecture, epochs: 10 };
    // @ts-expect-error a string parameter does not wire into a number input
    p.step(fit, wrong, { id: 'wrong' });
    return p.step(fit, { learningRate: trial.params.learningRate, architecture: trial.params.architecture, epochs: 10 })
      .loss;
  });
});

const random = {
  learningRate: { min: 0.001, max: 0.3, log: true },
  epochs: { values: [10, 20] },
  architecture: { values: ['mlp'] },
} as const;
export const typedRandom = pipeline({ name: 'typed-random' }, (p) => {
  const search = p.step(randomSearch(random), { space: random, count: 4, seed: 1, objective });
  return p.map(search.trials, (trial) => {
    type _lr = Expect<Equal<Of<typeof trial.params.learningRate>, number>>;
    type _epochs = Expect<Equal<Of<typeof trial.params.epochs>, 10 | 20>>;
    return p.step(fit, {
      learningRate: trial.params.learningRate,
      architecture: trial.params.architecture,
      epochs: trial.params.epochs,
    }).loss;
  });
});

it('compiles typed searches to the registered tune.grid and tune.random steps with the space as a literal input', () => {
  const node = compile(typedGrid).nodes[0]!;
  assert.equal(node.type === 'step' && node.step.name, 'tune.grid');
  assert.deepEqual(node.type === 'step' && node.inputs.space, { kind: 'literal', value: grid });
  const sampled = compile(typedRandom).nodes[0]!;
  assert.equal(sampled.type === 'step' && sampled.step.name, 'tune.random');
});

it('refuses, when the pipeline is built, a space other than the one the trial types came from', () => {
  const other = { learningRate: [0.5], architecture: ['mlp'] };
  const mismatched = pipeline({ name: 'mismatched' }, (p) => {
    p.step(gridSearch(grid), { space: other as unknown as typeof grid, objective });
  });
  assert.throws(
    () => compile(mismatched),
    (e: Error) => e instanceof PlanError && /pass the space given to gridSearch\(space\)/.test(e.message),
  );
});
