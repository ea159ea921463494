import { implement } from '../library';
import { openExperiment, searchOutput } from './search';
import { randomTrials } from './space';
import { tuneRandom } from './steps';

export const tuneRandomImpl = implement(tuneRandom, async ({ space, count, seed, objective, experiment }, ctx) =>
  searchOutput(
    await openExperiment(ctx, experiment, 'random', space, objective),
    objective,
    randomTrials(space, count, seed),
  ),
);
