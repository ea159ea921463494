import { recordTrialImpl } from './record';
import { tuneGridImpl, tuneRandomImpl } from './search';
import { selectTrialImpl } from './select';

export {
  gridSearch,
  randomSearch,
  recordTrial,
  selectTrial,
  tuneGrid,
  tuneRandom,
  type GridParams,
  type RandomParams,
} from './steps';
export {
  gridSize,
  gridTrials,
  randomTrials,
  MAX_TRIALS,
  type Choice,
  type GridSpace,
  type ParamValue,
  type RandomSpace,
  type Range,
  type Trial,
} from './space';
export { objectiveValue, rank, type Goal, type Objective } from './ranking';
export { recordTrialImpl, selectTrialImpl, tuneGridImpl, tuneRandomImpl };

/** The tuning steps' implementations, for a worker to register. */
export const tuneSteps = [tuneGridImpl, tuneRandomImpl, recordTrialImpl, selectTrialImpl];
