import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  averagePrecision,
  brierScore,
  calibration,
  expectedCalibrationError,
  precisionRecallCurve,
} from '../../../../activities/common/metrics/calibration';
import { MetricInputError } from '../../../../activities/common/metrics/input-check';

const close = (actual: number, expected: number, tolerance = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);

describe('averagePrecision', () => {
  it('sums recall steps times precision: 0.5·1 + 0.5·2/3 on the scikit-learn example', () => {
    close(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.8333333333333333);
  });

  it('treats tied scores as one threshold rather than ordering them', () => {
    close(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1]), 2 / 3);
    close(averagePrecision([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.1]), averagePrecision([1, 0, 0, 1], [0.5, 0.5, 0.5, 0.1]));
  });

  it('is 1 for a ranking that puts every positive first', () => {
    close(averagePrecision([1, 1, 0, 0, 0], [0.9, 0.8, 0.3, 0.2, 0.1]), 1);
  });

  it('refuses a holdout without a positive label, naming the metric', () => {
    assert.throws(
      () => averagePrecision([0, 0, 0], [0.1, 0.5, 0.9]),
      (e: unknown) => e instanceof MetricInputError && /average_precision: yTrue has no positive label/.test(e.message),
    );
  });

  it('refuses labels other than 0 and 1 and rows of unequal length', () => {
    assert.throws(() => averagePrecision([0, 2], [0.1, 0.5]), /yTrue\[1\] is 2/);
    assert.throws(() => averagePrecision([0, 1, 1], [0.1, 0.5]), /yTrue has 3 values but yScore has 2/);
    assert.throws(() => averagePrecision([0, 1], [0.1, Number.NaN]), /yScore\[1\] is NaN/);
  });
});

describe('precisionRecallCurve', () => {
  it('returns scikit-learn precision_recall_curve points, thresholds increasing, ending at (recall 0, precision 1)', () => {
    const curve = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    assert.deepEqual(curve.thresholds, [0.1, 0.35, 0.4, 0.8]);
    assert.deepEqual(curve.recall, [1, 1, 0.5, 0.5, 0]);
    curve.precision.forEach((p, i) => close(p, [0.5, 2 / 3, 0.5, 1, 1][i]!));
  });
});

describe('brierScore', () => {
  it('is the mean squared gap between probability and label', () => {
    close(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 0.0375);
  });

  it('refuses a probability outside [0, 1]', () => {
    assert.throws(() => brierScore([0, 1], [0.1, 1.2]), /yProb\[1\] is 1.2; probabilities must lie in \[0, 1\]/);
  });
});

describe('calibration', () => {
  it('weights each bin gap by its share of rows: 1/4·0.05 + 2/4·0.35 + 1/4·0.05 = 0.2', () => {
    const report = calibration([0, 0, 1, 1], [0.05, 0.15, 0.15, 0.95]);
    close(report.ece, 0.2);
    close(report.mce, 0.35);
    assert.equal(report.bins.length, 10);
    assert.deepEqual(
      report.bins.map((b) => b.count),
      [1, 2, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    assert.ok(Number.isNaN(report.bins[4]!.meanPredicted));
  });

  it('puts a probability on an inner edge in the lower bin, as calibration_curve does', () => {
    // calibration_curve([0,1,1,0,1], [0.2,0.3,0.25,0.1,0.9]) has prob_pred [0.1, 0.2, 0.275, 0.9].
    const report = calibration([0, 1, 1, 0, 1], [0.2, 0.3, 0.25, 0.1, 0.9]);
    const filled = report.bins.filter((b) => b.count > 0);
    filled.forEach((b, i) => close(b.meanPredicted, [0.1, 0.2, 0.275, 0.9][i]!));
    assert.deepEqual(
      filled.map((b) => b.fractionPositive),
      [0, 0, 1, 1],
    );
  });

  it('is 0 when every bin predicts its observed rate', () => {
    close(expectedCalibrationError([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5], { bins: 5 }), 0);
  });

  it('makes quantile bins of equal counts', () => {
    const p = [0.05, 0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.9];
    const report = calibration([0, 0, 0, 1, 0, 1, 1, 1], p, { bins: 4, strategy: 'quantile' });
    assert.deepEqual(
      report.bins.map((b) => b.count),
      [2, 2, 2, 2],
    );
    close(report.ece, (2 / 8) * (0.075 + 0.25 + 0.05 + 0.2));
  });

  it('refuses a number of bins that is not a positive whole number', () => {
    assert.throws(() => calibration([0, 1], [0.2, 0.8], { bins: 0 }), /bins is 0/);
  });
});
