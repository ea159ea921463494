import { z } from 'zod';
import { canonicalJson, defineStep, type StepDef } from '../../dsl';
import { modelRef } from '../refs';
import type { Choice, GridSpace, RandomSpace } from './space';

// Definitions only (zod, dsl, refs): pipelines import these; implementations live beside them.

export const paramValue = z.union([z.number(), z.string(), z.boolean()]);

const atLeastOne = (space: Record<string, unknown>) => Object.keys(space).length > 0;
const NO_PARAMS = 'a search space names at least one parameter';

export const gridSpace = z.record(z.string().min(1), z.array(paramValue).min(1)).refine(atLeastOne, NO_PARAMS);

const range = z
  .object({
    min: z.number(),
    max: z.number(),
    log: z.boolean().optional().describe('draw log-uniformly, for scales such as learning rates; needs min > 0'),
    integer: z.boolean().optional().describe('whole numbers between min and max, both included'),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max' })
  .refine((r) => !r.log || r.min > 0, { message: 'a log-scale range needs min > 0' })
  .refine((r) => !r.integer || Math.ceil(r.min) <= Math.floor(r.max), {
    message: 'an integer range holds at least one whole number',
  });
const choice = z.object({ values: z.array(paramValue).min(1) }).strict();
export const randomSpace = z.record(z.string().min(1), z.union([range, choice])).refine(atLeastOne, NO_PARAMS);

export const objective = z.object({
  metric: z.string().min(1).describe('a metric every trial reports, such as rocAuc'),
  goal: z.enum(['max', 'min']),
});

export const trial = z.object({ index: z.number().int().nonnegative(), params: z.record(z.string(), paramValue) });

/** A finished trial: what was tried, how it scored and the model it produced. */
export const scoredTrial = trial.extend({ metrics: z.record(z.string(), z.number()), model: modelRef });

const searchOutput = z.object({
  experiment: z.string().describe('the experiment the trials belong to'),
  objective,
  trials: z.array(trial),
});
const experimentName = z.string().min(1).optional().describe('experiment name; default <pipeline>.<node>');

export const tuneGrid = defineStep({
  name: 'tune.grid',
  version: '1',
  description: 'Grid search: every combination of the given values, as trials to map over',
  input: z.object({ space: gridSpace, objective, experiment: experimentName }),
  output: searchOutput,
  // Not cached: it creates the experiment in the store, an effect every run must have.
  options: { startToCloseTimeout: '1m', cache: false },
});

export const tuneRandom = defineStep({
  name: 'tune.random',
  version: '1',
  description: 'Random search: count samples of ranges and choices, reproducible from a seed',
  input: z.object({
    space: randomSpace,
    count: z.number().int().positive().max(1000),
    seed: z.number().int(),
    objective,
    experiment: experimentName,
  }),
  output: searchOutput,
  // Not cached: it creates the experiment in the store, an effect every run must have.
  options: { startToCloseTimeout: '1m', cache: false },
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
export type GridParams<S extends GridSpace> = Mutable<{ [K in keyof S]: S[K][number] }>;
export type RandomParams<S extends RandomSpace> = Mutable<{
  [K in keyof S]: S[K] extends Choice ? S[K]['values'][number] : number;
}>;

type Typed<D extends StepDef, Space, Params> = StepDef<
  z.ZodObject<Omit<D['input']['shape'], 'space'> & { space: z.ZodType<Space, Space> }>,
  z.ZodObject<
    Omit<D['output']['shape'], 'trials'> & {
      trials: z.ZodArray<z.ZodObject<{ index: z.ZodNumber; params: z.ZodType<Params, Params> }>>;
    }
  >
>;

// The same step, with the trial params typed by the space; `space` must be passed again as the
// input (the plan carries it), and a different one fails when the pipeline is built.
function typed<D extends StepDef, Space extends Record<string, unknown>, Params>(
  def: D,
  space: Space,
): Typed<D, Space, Params> {
  const same = (given: unknown) => canonicalJson(given) === canonicalJson(space);
  const input = def.input.extend({
    space: (def.input.shape.space as z.ZodType).refine(same, {
      message: `pass the space given to ${def.name === 'tune.grid' ? 'gridSearch' : 'randomSearch'}(space)`,
    }),
  });
  return { ...def, input } as unknown as Typed<D, Space, Params>;
}

/**
 * Grid search over `space`, typed: `trial.params.learningRate` is a number handle that wires
 * into a step. Each trial runs in a `p.map`; `recordTrial` keeps it in the experiment (when the
 * worker has a store) and `selectTrial` picks the best by the objective.
 *
 * A trial that fails (after its retries) fails the map and the run, as every map does: a search
 * whose trials crash is a broken search, not a worse score. Trials recorded before the failure
 * stay in the experiment.
 * @example
 * const space = { learningRate: [0.01, 0.05], l2: [0, 0.001] } as const;
 * const search = p.step(gridSearch(space), { space, objective: { metric: 'rocAuc', goal: 'max' } });
 * const trials = p.map(search.trials, (trial) => {
 *   const trained = p.step(trainClassifier, {
 *     train: split.train, transform: features.transform, label: 'class', positiveClass: 'bad',
 *     architecture: 'logistic', epochs: 100, batchSize: 1024, seed: 7,
 *     learningRate: trial.params.learningRate, l2: trial.params.l2,
 *   }, { id: 'train' });
 *   const scored = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
 *   return p.step(recordTrial, {
 *     experiment: search.experiment, objective: search.objective, trial, metrics: scored.metrics, model: trained.model,
 *   }).trial;
 * }, { id: 'trials', parallelism: 2 });
 * const tuned = p.step(selectTrial, { trials, objective: search.objective });
 * // tuned.best.model, tuned.best.metrics.rocAuc, tuned.best.params
 */
export const gridSearch = <const S extends GridSpace>(space: S) =>
  typed<typeof tuneGrid, S, GridParams<S>>(tuneGrid, space);

/**
 * Random search over `space`, typed like `gridSearch`; `count` trials reproducible from `seed`.
 * @example
 * const space = { learningRate: { min: 0.001, max: 0.3, log: true }, epochs: { values: [50, 100, 200] } } as const;
 * const search = p.step(randomSearch(space), { space, count: 8, seed: 7, objective: { metric: 'logLoss', goal: 'min' } });
 */
export const randomSearch = <const S extends RandomSpace>(space: S) =>
  typed<typeof tuneRandom, S, RandomParams<S>>(tuneRandom, space);

/**
 * Closes a trial: checks that it reports the objective's metric and, when the worker has a store,
 * records it (params, metrics, model, status succeeded) in the experiment, idempotently: the
 * trial's key is the run and the map instance (`<run>/trials[3].record`), so a retried step updates
 * the same trial and two searches of one run recording in the same experiment do not collide.
 * @example p.step(recordTrial, { experiment: search.experiment, objective: search.objective, trial, metrics: scored.metrics, model: trained.model })
 */
export const recordTrial = defineStep({
  name: 'tune.record',
  version: '1',
  description: 'Record a finished trial in its experiment; reports its objective value',
  input: z.object({
    experiment: z.string().min(1),
    objective,
    trial,
    metrics: z.record(z.string(), z.number()),
    model: modelRef,
  }),
  output: z.object({ trial: scoredTrial, objective: objective.extend({ value: z.number() }) }),
  // Not cached: recording the trial in this run's experiment is the point; a reused result records nothing.
  options: { startToCloseTimeout: '1m', cache: false },
});

/**
 * Picks the best of the finished trials by the objective; ties go to the lower trial index.
 * @example const tuned = p.step(selectTrial, { trials, objective: { metric: 'rocAuc', goal: 'max' } });
 */
export const selectTrial = defineStep({
  name: 'tune.select',
  version: '1',
  description: 'The best trial by a metric and goal, and every trial ranked',
  input: z.object({ trials: z.array(scoredTrial).min(1), objective }),
  output: z.object({
    best: scoredTrial,
    ranking: z
      .array(
        z.object({
          index: z.number().int().nonnegative(),
          value: z.number(),
          params: z.record(z.string(), paramValue),
        }),
      )
      .describe('best first'),
  }),
  // Light: sorting a list of trials runs in the workflow's worker, without a task-queue round trip.
  options: { startToCloseTimeout: '1m', retry: { maximumAttempts: 1 }, light: true },
});
