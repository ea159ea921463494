// Every built-in step definition, for pipelines to import. Node-free: definitions only.
export { readCsv, splitDataset, readJsonl, readPostgres, checkQuality, thresholdLabel } from './data/steps';
export { fitFeatures } from './features/steps';
export { trainClassifier, trainRegressor } from './train/steps';
export {
  evaluateRegressor,
  evaluateClassifier,
  evaluateFairness,
  evaluateRobustness,
  sensitiveGroups,
} from './evaluate/steps';
export { checkGates, validateChampion } from './validate/steps';
export { registerModel, setAlias } from './registry/steps';
export { exportOnnx, importOnnx, scoreModel, scoreRegistered } from './model/steps';
export { gridSearch, randomSearch, recordTrial, selectTrial, tuneGrid, tuneRandom } from './tune/steps';
export { deploy, rolloutStrategy, rolloutGate } from './deploy/steps';
export * from './refs';
