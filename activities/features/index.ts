import { fitFeaturesImpl, loadTransform } from './fit';

export { fitFeatures } from './steps';
export { fitFeaturesImpl, loadTransform };
export {
  applyTransform,
  applyTransformInto,
  bucketOf,
  categoryOf,
  featureNames,
  featureWidth,
  TransformInputError,
  transformRows,
  transformWidth,
  type BucketizedFeature,
  type CategoricalFeature,
  type CategoricalImpute,
  type FeatureSpec,
  type NumericFeature,
  type NumericImpute,
  type TransformSpec,
} from './transform';
export {
  quantile,
  TransformFitError,
  TransformFitter,
  type BucketChoice,
  type ImputeChoice,
  type TransformOptions,
} from './fitter';

/** The feature steps' implementations, for a worker to register. */
export const featureSteps = [fitFeaturesImpl];
