import { trainClassifierImpl } from './classifier';
import { trainRegressorImpl } from './regressor';

/** The training steps' implementations, for a worker to register. */
export const trainSteps = [trainClassifierImpl, trainRegressorImpl];
