import type { StepImpl } from './library';
import { dataSteps } from './data';
import { featureSteps } from './features';
import { trainSteps } from './train';
import { evaluateSteps } from './evaluate/evaluate';
import { checkGatesImpl } from './evaluate/check-gates';
import { evaluateRegressorImpl } from './evaluate/evaluate-regressor';
import { evaluateFairnessImpl } from './evaluate/fairness-step';
import { evaluateRobustnessImpl } from './evaluate/robustness-step';
import { validateChampionImpl } from './evaluate/champion-step';
import { registrySteps } from './registry';
import { onnxSteps } from './onnx';
import { scoreSteps } from './score';
import { tuneSteps } from './tune';

/** Every step implementation Kiln ships, for a worker to register. */
export const builtinSteps: StepImpl[] = [
  ...dataSteps,
  ...featureSteps,
  ...trainSteps,
  ...evaluateSteps,
  evaluateRegressorImpl,
  checkGatesImpl,
  evaluateFairnessImpl,
  evaluateRobustnessImpl,
  validateChampionImpl,
  ...registrySteps,
  ...onnxSteps,
  ...tuneSteps,
  ...scoreSteps,
];
