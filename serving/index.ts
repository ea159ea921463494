export { createModelServer, type ModelServer, type ModelServerOptions, type ServedTarget } from './server';
export { productionModels, storeSource } from './store-source';
export { parseTarget, startServing, type Serving, type StartOptions } from './serve';
export { loadPredictor, FASTER_ENGINE, type EngineChoice, type EngineName, type Predictor } from './engines';
export { ModelLoadError, RequestError } from './errors';
export { NotServableError } from './served-model';
export type {
  PredictionErrorRecord,
  PredictionRecord,
  Routing,
  ServingSource,
  TrafficSplit,
  VersionArtifact,
} from './source';
