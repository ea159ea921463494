import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../../../activities/common/random';
import {
  accuracy,
  binaryMetrics,
  confusion,
  f1,
  logLoss,
  multiclassLogLoss,
  multiclassMetrics,
  precision,
  recall,
  rocAuc,
  rocCurve,
} from '../../../../activities/common/metrics/classification';

const close = (actual: number, expected: number, tolerance = 1e-12) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

// scikit-learn's own roc_curve example: y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8].
const y = [0, 0, 1, 1];
const s = [0.1, 0.4, 0.35, 0.8];

describe('binary metrics', () => {
  it('counts the confusion matrix with score >= threshold as positive', () => {
    assert.deepEqual(confusion(y, s), { tp: 1, fp: 0, tn: 2, fn: 1 });
    assert.deepEqual(confusion([1, 0], [0.5, 0.49]), { tp: 1, fp: 0, tn: 1, fn: 0 });
  });

  it('computes accuracy, precision, recall and F1 at 0.5', () => {
    assert.equal(accuracy(y, s), 0.75);
    assert.equal(precision(y, s), 1);
    assert.equal(recall(y, s), 0.5);
    close(f1(y, s), 2 / 3);
  });

  it('gives 0 for precision and F1 when nothing is predicted positive, as scikit-learn does', () => {
    assert.equal(precision([0, 1], [0.1, 0.2]), 0);
    assert.equal(f1([0, 1], [0.1, 0.2]), 0);
  });

  it('computes ROC AUC of the scikit-learn example as 0.75', () => {
    assert.equal(rocAuc(y, s), 0.75);
  });

  it('gives tied scores half credit in ROC AUC', () => {
    // positives 0.5, 0.9 against negatives 0.5, 0.2: pairs score 0.5 + 1 + 1 + 1 of 4
    assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.875);
    assert.equal(rocAuc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]), 0.5);
  });

  it('gives ROC AUC as the share of positive-negative pairs ordered right, ties (-0 and 0 among them) half', () => {
    const random = mulberry32(11);
    for (let trial = 0; trial < 50; trial++) {
      const scores = Array.from(
        { length: 120 },
        () => [0, -0, 0.25, 1, random(), -Infinity][Math.floor(random() * 6)]!,
      );
      const labels = scores.map((_, i) => (i < 2 ? i : random() < 0.4 ? 1 : 0));
      let credit = 0;
      let pairs = 0;
      labels.forEach((p, i) =>
        labels.forEach((n, j) => {
          if (p !== 1 || n !== 0) return;
          pairs++;
          credit += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }),
      );
      assert.equal(rocAuc(labels, scores), credit / pairs);
    }
  });

  it('refuses ROC AUC when only one class is present, as scikit-learn does', () => {
    assert.throws(() => rocAuc([1, 1], [0.2, 0.4]), /roc_auc: yTrue holds only class 1 \(2 rows\)/);
  });

  it('returns the ROC curve scikit-learn returns for its example', () => {
    assert.deepEqual(rocCurve(y, s), {
      fpr: [0, 0, 0.5, 0.5, 1],
      tpr: [0, 0.5, 0.5, 1, 1],
      thresholds: [Infinity, 0.8, 0.4, 0.35, 0.1],
    });
  });

  it('drops collinear ROC points but keeps the first, as scikit-learn does', () => {
    assert.deepEqual(rocCurve([1, 1, 1, 0, 0, 0], [0.9, 0.8, 0.7, 0.3, 0.2, 0.1]), {
      fpr: [0, 0, 0, 1],
      tpr: [0, 1 / 3, 1, 1],
      thresholds: [Infinity, 0.9, 0.7, 0.1],
    });
  });

  it('computes log loss, clipping certain wrong answers to 1e-15', () => {
    close(logLoss(y, s), -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4);
    close(logLoss([1], [0]), -Math.log(1e-15), 1e-9);
  });

  it('matches scikit-learn 1.9.1 on a larger sample with ties', () => {
    // y / scores drawn with numpy default_rng(0), scores rounded to 0.1 (many ties, a 0 and 1s);
    // expected values printed by sklearn.metrics (accuracy_score ... log_loss).
    const yTrue = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const yScore = [0.9, 0.3, 0.9, 0, 0.5, 0.1, 0.6, 0.4, 0.2, 0.6, 0.3, 0.4, 0.8, 0.8, 0.7, 0.6, 1, 1, 0.8, 0.8];
    const m = binaryMetrics(yTrue, yScore);
    close(m.accuracy, 0.75);
    close(m.precision, 0.8461538461538461);
    close(m.recall, 0.7857142857142857);
    close(m.f1, 0.8148148148148148);
    close(m.rocAuc, 0.8869047619047619);
    close(m.logLoss, 0.41273126858706793);
    // average_precision_score, brier_score_loss, and ECE from calibration_curve's 10 uniform bins.
    close(m.prAuc, 0.9485994397759103);
    close(m.brierScore, 0.1375);
    close(m.calibrationError, 0.195);
  });

  it('gives NaN probability metrics, which fail any gate, for a score that is not a probability', () => {
    const m = binaryMetrics([0, 1, 1], [0.2, Number.NaN, 0.9]);
    assert.deepEqual([m.prAuc, m.brierScore, m.calibrationError], [Number.NaN, Number.NaN, Number.NaN]);
  });
});

describe('multiclass metrics', () => {
  const yTrue = [0, 1, 2, 2];
  const proba = [
    [0.7, 0.2, 0.1],
    [0.3, 0.4, 0.3],
    [0.2, 0.2, 0.6],
    [0.1, 0.6, 0.3],
  ];

  it('macro-averages precision, recall, F1 and one-vs-rest ROC AUC', () => {
    const m = multiclassMetrics(yTrue, proba);
    assert.deepEqual(m.confusionMatrix, [
      [1, 0, 0],
      [0, 1, 0],
      [0, 1, 1],
    ]);
    close(m.accuracy, 0.75);
    close(m.precision, 2.5 / 3);
    close(m.recall, 2.5 / 3);
    close(m.f1, (1 + 2 / 3 + 2 / 3) / 3);
    close(m.rocAuc, (1 + 2 / 3 + 0.875) / 3);
    close(m.logLoss, -(Math.log(0.7) + Math.log(0.4) + Math.log(0.6) + Math.log(0.3)) / 4);
  });

  it('macro-averages PR AUC, Brier score and calibration error of each class against the rest, as scikit-learn 1.9.1 gives them', () => {
    // average_precision_score(label_binarize(y), proba, average='macro'); the mean over classes of
    // brier_score_loss(y == k, proba[:, k]) and of the 10-bin ECE of the same.
    const m = multiclassMetrics(yTrue, proba);
    close(m.prAuc, 0.7777777777777777);
    close(m.brierScore, 0.14833333333333334);
    close(m.calibrationError, 0.2833333333333333);
    close(m.perClass[0]!.brierScore, (0.09 + 0.09 + 0.04 + 0.01) / 4);
  });

  it('renormalizes clipped rows in log loss', () => {
    close(multiclassLogLoss([0], [[2, 2]]), Math.log(2));
  });

  it('rejects class indices outside the probability columns', () => {
    assert.throws(() => multiclassMetrics([3], [[0.5, 0.5]]), RangeError);
  });
});
