import type { StepContext } from '../library';
import { implement } from '../library';
import { invalidData } from '../data/invalid';
import { gridSize, gridTrials, MAX_TRIALS, randomTrials, type Trial } from './space';
import type { Objective } from './ranking';
import { tuneGrid, tuneRandom } from './steps';

/** Names the experiment and, when the worker has a store, creates it there. */
async function openExperiment(
  ctx: StepContext,
  given: string | undefined,
  kind: string,
  space: Record<string, unknown>,
  objective: Objective,
): Promise<string> {
  const name = given ?? `${ctx.run.pipeline}.${ctx.run.node}`;
  const description = `${kind} search over ${Object.keys(space).join(', ')} for ${objective.goal} ${objective.metric}`;
  if (ctx.store) await ctx.store.recordExperiment({ name, description });
  else
    ctx.log('the worker has no store: trials of this search are not recorded in an experiment', { experiment: name });
  return name;
}

const output = (experiment: string, objective: Objective, trials: Trial[]) => ({ experiment, objective, trials });

export const tuneGridImpl = implement(tuneGrid, async ({ space, objective, experiment }, ctx) => {
  const size = gridSize(space);
  if (size > MAX_TRIALS) {
    const sizes = Object.entries(space)
      .map(([name, values]) => `${name} ${values.length}`)
      .join(' × ');
    throw invalidData(
      `the grid expands to ${size} trials (${sizes}); at most ${MAX_TRIALS}: try fewer values, or tune.random`,
      { size },
    );
  }
  return output(await openExperiment(ctx, experiment, 'grid', space, objective), objective, gridTrials(space));
});

export const tuneRandomImpl = implement(tuneRandom, async ({ space, count, seed, objective, experiment }, ctx) =>
  output(
    await openExperiment(ctx, experiment, 'random', space, objective),
    objective,
    randomTrials(space, count, seed),
  ),
);
