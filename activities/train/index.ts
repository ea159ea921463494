import { classesOf, trainClassifierImpl } from './classifier';
import { targetsOf, trainRegressorImpl } from './regressor';

export { trainClassifier, trainRegressor } from './steps';
export { classesOf, trainClassifierImpl, targetsOf, trainRegressorImpl };
export { DEFAULT_BACKENDS, preferredBackends, tensorflow, type BackendName, type Tf, type TfRuntime } from './backend';
export { loadModel, type Activation, type DenseLayer, type ModelSpec, type TrainParams } from './model';
export { buildNetwork, exportLayers, fitNetwork, type FitOptions, type NetworkConfig } from './network';
export { forward, predictProba, predictValues } from './predict';

/** The training steps' implementations, for a worker to register. */
export const trainSteps = [trainClassifierImpl, trainRegressorImpl];
