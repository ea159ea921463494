import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  meanAbsoluteError,
  r2Score,
  regressionMetrics,
  rootMeanSquaredError,
} from '../../../../activities/common/metrics/regression';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `expected ${expected}, got ${actual}`);

// scikit-learn's documentation example: y_true [3, -0.5, 2, 7], y_pred [2.5, 0.0, 2, 8].
const yTrue = [3, -0.5, 2, 7];
const yPred = [2.5, 0, 2, 8];

describe('regression metrics', () => {
  it('computes MAE as the mean absolute error: (0.5 + 0.5 + 0 + 1) / 4', () => {
    close(meanAbsoluteError(yTrue, yPred), 0.5);
  });

  it('computes RMSE as the root of the mean squared error: √(1.5 / 4)', () => {
    close(rootMeanSquaredError(yTrue, yPred), Math.sqrt(0.375));
  });

  it('computes R2 as 1 − SS_res / SS_tot, 0.9486081370449679 on the scikit-learn example', () => {
    close(r2Score(yTrue, yPred), 0.9486081370449679);
  });

  it('gives R2 1 for a perfect prediction of a constant and 0 for an imperfect one, as scikit-learn does', () => {
    assert.equal(r2Score([2, 2, 2], [2, 2, 2]), 1);
    assert.equal(r2Score([2, 2, 2], [2, 2, 3]), 0);
  });

  it('reports all three under gate names', () => {
    assert.deepEqual(Object.keys(regressionMetrics(yTrue, yPred)), ['mae', 'rmse', 'r2']);
  });

  it('refuses non-finite values and empty input', () => {
    assert.throws(() => meanAbsoluteError([1, Number.NaN], [1, 2]), /mae: yTrue\[1\] is NaN/);
    assert.throws(() => r2Score([], []), /r2: no rows/);
  });
});
