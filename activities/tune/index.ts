import { tuneGridImpl } from './grid';
import { tuneRandomImpl } from './random';
import { recordTrialImpl } from './record';
import { selectTrialImpl } from './select';

/** The tuning steps' implementations, for a worker to register. */
export const tuneSteps = [tuneGridImpl, tuneRandomImpl, recordTrialImpl, selectTrialImpl];
