import { implement } from '../library';
import { invalidData } from '../common/failures';
import { openExperiment, searchOutput } from './search';
import { gridSize, gridTrials, MAX_TRIALS } from './space';
import { tuneGrid } from './steps';

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
  return searchOutput(await openExperiment(ctx, experiment, 'grid', space, objective), objective, gridTrials(space));
});
