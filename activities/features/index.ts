import { fitFeaturesImpl } from './fit';

/** The feature steps' implementations, for a worker to register. */
export const featureSteps = [fitFeaturesImpl];
