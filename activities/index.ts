import type { StepImpl } from './library';
import { dataSteps } from './data';
import { featureSteps } from './features';

/** Every step implementation Kiln ships, for a worker to register. */
export const builtinSteps: StepImpl[] = [...dataSteps, ...featureSteps];
