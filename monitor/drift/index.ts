export { DriftInputError } from './errors';
export {
  type DatasetDrift,
  type DatasetDriftOptions,
  type Columns,
  type DriftSchema,
  DEFAULT_DRIFT_SHARE,
  datasetDrift,
} from './dataset';
export {
  type FeatureDrift,
  type FeatureDriftOptions,
  type InsufficientData,
  type MeasuredDrift,
  DEFAULT_MIN_ROWS,
  featureDrift,
  predictionDrift,
} from './feature';
export type { CategoricalColumn, Column, FeatureKind, NumericColumn } from './samples';
export { type DriftTest, DRIFT_TESTS, defaultTest } from './select';
