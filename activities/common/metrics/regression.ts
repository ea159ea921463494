import { checkFinite, checkLengths, type Numbers } from './input-check';

function check(metric: string, yTrue: Numbers, yPred: Numbers): void {
  checkLengths(metric, yTrue, yPred);
  checkFinite(metric, yTrue, 'yTrue');
  checkFinite(metric, yPred, 'yPred');
}

/** Mean absolute error. */
export function meanAbsoluteError(yTrue: Numbers, yPred: Numbers): number {
  check('mae', yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs(yTrue[i]! - yPred[i]!);
  return sum / yTrue.length;
}

/** Root mean squared error. */
export function rootMeanSquaredError(yTrue: Numbers, yPred: Numbers): number {
  check('rmse', yTrue, yPred);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += (yTrue[i]! - yPred[i]!) ** 2;
  return Math.sqrt(sum / yTrue.length);
}

/**
 * Coefficient of determination, 1 − SS_res / SS_tot. A constant yTrue leaves it undefined; like
 * scikit-learn's `r2_score` (force_finite) that gives 1 for a perfect prediction and 0 otherwise.
 */
export function r2Score(yTrue: Numbers, yPred: Numbers): number {
  check('r2', yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) mean += yTrue[i]!;
  mean /= yTrue.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    residual += (yTrue[i]! - yPred[i]!) ** 2;
    total += (yTrue[i]! - mean) ** 2;
  }
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

export interface RegressionMetrics {
  mae: number;
  rmse: number;
  r2: number;
}

/** MAE, RMSE and R2 together, keyed as gates name them. */
export function regressionMetrics(yTrue: Numbers, yPred: Numbers): RegressionMetrics {
  return { mae: meanAbsoluteError(yTrue, yPred), rmse: rootMeanSquaredError(yTrue, yPred), r2: r2Score(yTrue, yPred) };
}
