import assert from 'node:assert/strict';
import { it } from 'node:test';
import { z } from 'zod';
import { compile, defineStep, pipeline, type Handle, type PipelineParams, type StepOutput } from '../../dsl';

// Compiled by `tsc` in the test command: if inference breaks, the build fails.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const dataset = z.object({ kind: z.literal('dataset'), uri: z.string() });
const model = z.object({ kind: z.literal('model'), uri: z.string() });
const load = defineStep({
  name: 'types.load',
  version: '1',
  input: z.object({ path: z.string() }),
  output: z.object({ dataset }),
});
const split = defineStep({
  name: 'types.split',
  version: '1',
  input: z.object({ dataset, testFraction: z.number() }),
  output: z.object({ train: dataset, test: dataset }),
});
const train = defineStep({
  name: 'types.train',
  version: '1',
  input: z.object({ train: dataset, epochs: z.number().default(10) }),
  output: z.object({ model, loss: z.number() }),
});
const evaluate = defineStep({
  name: 'types.evaluate',
  version: '1',
  input: z.object({ model, test: dataset }),
  output: z.object({ auc: z.number() }),
});

export const typed = pipeline(
  { name: 'typed', params: z.object({ fraction: z.number().default(0.2), path: z.string() }) },
  (p, params) => {
    const raw = p.step(load, { path: params.path });
    const parts = p.step(split, { dataset: raw.dataset, testFraction: params.fraction });
    const fit = p.step(train, { train: parts.train });
    const score = p.step(evaluate, { model: fit.model, test: parts.test });
    // @ts-expect-error a model handle is not a dataset
    p.step(evaluate, { model: parts.test, test: parts.test }, { id: 'wrong1' });
    // @ts-expect-error a number handle is not a string
    p.step(load, { path: params.fraction }, { id: 'wrong2' });
    // @ts-expect-error a required input is missing
    p.step(split, { dataset: raw.dataset }, { id: 'wrong3' });
    // @ts-expect-error an output that does not exist
    void fit.accuracy;
    type _auc = Expect<Equal<typeof score.auc extends Handle<infer T> ? T : never, number>>;
    type _model = Expect<Equal<typeof fit.model extends Handle<infer T> ? T : never, { kind: 'model'; uri: string }>>;
    const _trials = p.map(
      p.step(load, { path: 'x' }, { id: 'grid' }).dataset.uri as unknown as Handle<{ lr: number }[]>,
      (trial) => ({ lr: trial.lr, loss: p.step(train, { train: parts.train, epochs: trial.lr }, { id: 't' }).loss }),
    );
    type _trialsType = Expect<
      Equal<typeof _trials extends Handle<infer T> ? T : never, { lr: number; loss: number }[]>
    >;
    return { auc: score.auc };
  },
);

type _params = Expect<Equal<PipelineParams<typeof typed>, { fraction?: number | undefined; path: string }>>;
type _out = Expect<Equal<StepOutput<typeof train>, { model: { kind: 'model'; uri: string }; loss: number }>>;

it('a well-typed pipeline also builds at run time (the wrong wirings above are compile-time only)', () => {
  const clean = pipeline({ name: 'clean' }, (p) => {
    const raw = p.step(load, { path: 'x.csv' });
    return p.step(split, { dataset: raw.dataset, testFraction: 0.2 }).train;
  });
  assert.equal(compile(clean).nodes.length, 2);
});
