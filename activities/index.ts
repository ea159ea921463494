import type { StepImpl } from './library';
import { dataSteps } from './data';
import { featureSteps } from './features';
import { trainSteps } from './train';
import { evaluateSteps } from './evaluate';
import { validateSteps } from './validate';
import { registrySteps } from './registry';
import { modelSteps } from './model';
import { tuneSteps } from './tune';
import { deploySteps } from './deploy';

/** Every step implementation Kiln ships, for a worker to register. */
export const builtinSteps: StepImpl[] = [
  ...dataSteps,
  ...featureSteps,
  ...trainSteps,
  ...evaluateSteps,
  ...validateSteps,
  ...registrySteps,
  ...modelSteps,
  ...tuneSteps,
  ...deploySteps,
];
