// Every built-in step definition, for pipelines to import. Node-free: definitions only.
export { readCsv, splitDataset, readJsonl, readPostgres, checkQuality, thresholdLabel } from './data/steps';
export { fitFeatures } from './features/steps';
export { trainClassifier, trainRegressor } from './train/steps';
export {
  evaluateRegressor,
  evaluateClassifier,
  evaluateFairness,
  evaluateRobustness,
  validateChampion,
  sensitiveGroups,
} from './evaluate/steps';
export { checkGates } from './evaluate/gate-steps';
export { registerModel, setAlias } from './registry/steps';
export { exportOnnx, importOnnx, onnxRef } from './onnx/steps';
export { scoreModel } from './score/steps';
export { gridSearch, randomSearch, recordTrial, selectTrial, tuneGrid, tuneRandom } from './tune/steps';
export * from './refs';
