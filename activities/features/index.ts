import { fitFeaturesImpl, loadTransform } from './fit';

export { fitFeatures } from './steps';
export { fitFeaturesImpl, loadTransform };
export {
  applyTransform, applyTransformInto, categoryOf, featureNames, TransformFitter, TransformInputError, transformRows, transformWidth,
  type CategoricalFeature, type FeatureSpec, type NumericFeature, type TransformSpec,
} from './transform';

/** The feature steps' implementations, for a worker to register. */
export const featureSteps = [fitFeaturesImpl];
