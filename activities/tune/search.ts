import type { StepContext } from '../library';
import type { Trial } from './space';
import type { Objective } from './ranking';

/** Names the experiment and, when the worker has a store, creates it there. */
export async function openExperiment(
  ctx: StepContext,
  given: string | undefined,
  kind: string,
  space: Record<string, unknown>,
  objective: Objective,
): Promise<string> {
  const name = given ?? `${ctx.run.pipeline}.${ctx.run.node}`;
  const description = `${kind} search over ${Object.keys(space).join(', ')} for ${objective.goal} ${objective.metric}`;
  if (ctx.store) await ctx.store.experiments.recordExperiment({ name, description });
  else
    ctx.log('the worker has no store: trials of this search are not recorded in an experiment', { experiment: name });
  return name;
}

/** A search step's output: the experiment, the objective and the trials to run. */
export const searchOutput = (experiment: string, objective: Objective, trials: Trial[]) => ({
  experiment,
  objective,
  trials,
});
