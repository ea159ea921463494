import { evaluateClassifierImpl } from './classifier';
import { evaluateRegressorImpl } from './regressor';
import { evaluateFairnessImpl } from './fairness';
import { evaluateRobustnessImpl } from './robustness';

/** The evaluation steps' implementations, for a worker to register. */
export const evaluateSteps = [
  evaluateClassifierImpl,
  evaluateRegressorImpl,
  evaluateFairnessImpl,
  evaluateRobustnessImpl,
];
