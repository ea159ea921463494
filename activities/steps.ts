// Every built-in step definition, for pipelines to import. Node-free: definitions only.
export { readCsv, splitDataset } from './data/steps';
export { readJsonl, readPostgres, checkQuality } from './data/steps';
export { thresholdLabel } from './data/steps';
export { fitFeatures } from './features/steps';
export { trainClassifier } from './train/steps';
export { trainRegressor } from './train/steps';
export { evaluateRegressor } from './evaluate/steps';
export { evaluateClassifier } from './evaluate/steps';
export { checkGates } from './evaluate/gate-steps';
export { evaluateFairness, evaluateRobustness, validateChampion, sensitiveGroups } from './evaluate/steps';
export { registerModel, setAlias } from './registry/steps';
export { exportOnnx, importOnnx, onnxRef } from './onnx/steps';
export { scoreModel } from './score/steps';
export { gridSearch, randomSearch, recordTrial, selectTrial, tuneGrid, tuneRandom } from './tune/steps';
export * from './refs';
