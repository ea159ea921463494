// Classification metrics as pure functions over plain arrays, defined as scikit-learn defines
// them so numbers can be checked against it: a class is predicted positive when its score is
// at or above the threshold; a ratio with a zero denominator is 0; ROC AUC averages the ranks
// of tied scores; log loss clips probabilities to [eps, 1 − eps]. PR AUC (average precision),
// Brier score and expected calibration error come from calibration.ts; for multiclass each is the
// macro average over classes of its one-vs-rest value, as ROC AUC is.

import { averagePrecision, brierScore, calibration } from './calibration';
import { MetricInputError } from './input-check';
import { scoreOrder } from './score-order';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Descending; the first is Infinity, the point (0, 0) where nothing is predicted positive. */
  thresholds: number[];
}

export interface ClassificationMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  logLoss: number;
  /** Average precision (scikit-learn's `average_precision_score`); NaN when no row is positive. */
  prAuc: number;
  /** Mean squared gap between the predicted probability and the 0/1 label. */
  brierScore: number;
  /** Expected calibration error over {@link CALIBRATION_BINS} equal-width bins. */
  calibrationError: number;
  rows: number;
}

export const DEFAULT_THRESHOLD = 0.5;
export const LOG_LOSS_EPS = 1e-15;
/** Equal-width bins of the reliability curve and of the expected calibration error. */
export const CALIBRATION_BINS = 10;

/**
 * The one-vs-rest probability metrics of one class: yTrue 0/1, yProb that class's probability.
 * All three are NaN when a probability is not in [0, 1] (a broken model), so a gate on them fails.
 */
function probabilityMetrics(
  yTrue: readonly number[],
  yProb: readonly number[],
): { prAuc: number; brierScore: number; calibrationError: number } {
  if (!yProb.every((p) => p >= 0 && p <= 1))
    return { prAuc: Number.NaN, brierScore: Number.NaN, calibrationError: Number.NaN };
  return {
    prAuc: yTrue.includes(1) ? averagePrecision(yTrue, yProb) : Number.NaN,
    brierScore: brierScore(yTrue, yProb),
    calibrationError: calibration(yTrue, yProb, { bins: CALIBRATION_BINS }).ece,
  };
}

function checkBinary(yTrue: readonly number[], yScore: readonly number[]): void {
  if (yTrue.length !== yScore.length)
    throw new RangeError(`yTrue has ${yTrue.length} values but yScore has ${yScore.length}`);
  if (yTrue.length === 0) throw new RangeError('metrics need at least one example');
  for (const y of yTrue) if (y !== 0 && y !== 1) throw new RangeError(`yTrue must hold 0 and 1 only, found ${y}`);
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Counts of true/false positives/negatives at a threshold. */
export function confusion(
  yTrue: readonly number[],
  yScore: readonly number[],
  threshold = DEFAULT_THRESHOLD,
): Confusion {
  checkBinary(yTrue, yScore);
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  yTrue.forEach((y, i) => {
    const predicted = yScore[i]! >= threshold;
    if (predicted) c[y === 1 ? 'tp' : 'fp']++;
    else c[y === 1 ? 'fn' : 'tn']++;
  });
  return c;
}

export const accuracy = (
  yTrue: readonly number[],
  yScore: readonly number[],
  threshold = DEFAULT_THRESHOLD,
): number => {
  const c = confusion(yTrue, yScore, threshold);
  return (c.tp + c.tn) / yTrue.length;
};

export const precision = (
  yTrue: readonly number[],
  yScore: readonly number[],
  threshold = DEFAULT_THRESHOLD,
): number => {
  const c = confusion(yTrue, yScore, threshold);
  return ratio(c.tp, c.tp + c.fp);
};

export const recall = (yTrue: readonly number[], yScore: readonly number[], threshold = DEFAULT_THRESHOLD): number => {
  const c = confusion(yTrue, yScore, threshold);
  return ratio(c.tp, c.tp + c.fn);
};

export const f1 = (yTrue: readonly number[], yScore: readonly number[], threshold = DEFAULT_THRESHOLD): number => {
  const c = confusion(yTrue, yScore, threshold);
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
};

/**
 * Area under the ROC curve, by the Mann–Whitney statistic (equal to the trapezoidal area
 * scikit-learn computes, ties included). Undefined when only one class is present: a
 * MetricInputError then, as scikit-learn raises, never a number a gate could read.
 */
export function rocAuc(yTrue: readonly number[], yScore: readonly number[]): number {
  checkBinary(yTrue, yScore);
  // Two native sorts (every score, and the positives' scores) walked together: each block of tied
  // scores gives its average rank to the positives in it. Sorting indices under a comparator, as
  // ranking each row would, takes four times as long. Ranks are halves: the sum is exact.
  const all = Float64Array.from(yScore).sort();
  const positive = Float64Array.from(yScore.filter((_, i) => yTrue[i] === 1)).sort();
  const positives = positive.length;
  let rankSum = 0;
  for (let start = 0, p = 0; start < all.length;) {
    let end = start + 1;
    while (end < all.length && all[end] === all[start]) end++;
    const first = p;
    while (p < positives && positive[p] === all[start]) p++;
    rankSum += ((p - first) * (start + 1 + end)) / 2;
    start = end;
  }
  const negatives = yTrue.length - positives;
  if (positives === 0 || negatives === 0)
    throw new MetricInputError(
      'roc_auc',
      `yTrue holds only class ${positives === 0 ? 0 : 1} (${yTrue.length} rows); ROC AUC needs both classes: evaluate on a larger or stratified set`,
    );
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** The ROC curve at each distinct score, dropping collinear points as scikit-learn's `roc_curve` does. */
export function rocCurve(yTrue: readonly number[], yScore: readonly number[]): RocCurve {
  checkBinary(yTrue, yScore);
  const order = scoreOrder(yScore, 'descending');
  const tps: number[] = [];
  const fps: number[] = [];
  const scores: number[] = [];
  let tp = 0;
  let fp = 0;
  order.forEach((idx, k) => {
    if (yTrue[idx] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || yScore[next] !== yScore[idx]) {
      tps.push(tp);
      fps.push(fp);
      scores.push(yScore[idx]!);
    }
  });
  const keep = scores.map(
    (_, i) =>
      i === 0 ||
      i === scores.length - 1 ||
      fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 ||
      tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0,
  );
  const kept = scores.flatMap((_, i) => (keep[i] ? [i] : []));
  const positives = tp;
  const negatives = fp;
  return {
    fpr: [0, ...kept.map((i) => (negatives === 0 ? Number.NaN : fps[i]! / negatives))],
    tpr: [0, ...kept.map((i) => (positives === 0 ? Number.NaN : tps[i]! / positives))],
    thresholds: [Number.POSITIVE_INFINITY, ...kept.map((i) => scores[i]!)],
  };
}

/** Mean negative log-likelihood of the true class; yScore is the probability of class 1. */
export function logLoss(yTrue: readonly number[], yScore: readonly number[], eps = LOG_LOSS_EPS): number {
  checkBinary(yTrue, yScore);
  let sum = 0;
  yTrue.forEach((y, i) => {
    const p = Math.min(Math.max(yScore[i]!, eps), 1 - eps);
    sum -= y === 1 ? Math.log(p) : Math.log(1 - p);
  });
  return sum / yTrue.length;
}

/** All binary metrics at once, from the probability of the positive class. */
export function binaryMetrics(
  yTrue: readonly number[],
  yScore: readonly number[],
  threshold = DEFAULT_THRESHOLD,
): ClassificationMetrics & { confusion: Confusion } {
  const c = confusion(yTrue, yScore, threshold);
  return {
    accuracy: (c.tp + c.tn) / yTrue.length,
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    rocAuc: rocAuc(yTrue, yScore),
    logLoss: logLoss(yTrue, yScore),
    ...probabilityMetrics(yTrue, yScore),
    rows: yTrue.length,
    confusion: c,
  };
}

function checkMulticlass(yTrue: readonly number[], proba: readonly (readonly number[])[]): number {
  if (yTrue.length !== proba.length)
    throw new RangeError(`yTrue has ${yTrue.length} values but proba has ${proba.length} rows`);
  if (yTrue.length === 0) throw new RangeError('metrics need at least one example');
  const k = proba[0]!.length;
  if (k < 2) throw new RangeError('proba needs a column per class, at least two');
  proba.forEach((p, i) => {
    if (p.length !== k) throw new RangeError(`proba row ${i} has ${p.length} columns, expected ${k}`);
  });
  for (const y of yTrue)
    if (!Number.isInteger(y) || y < 0 || y >= k)
      throw new RangeError(`yTrue must hold class indices 0..${k - 1}, found ${y}`);
  return k;
}

/** The predicted class: the first with the highest probability. */
export const argmax = (p: readonly number[]): number => p.reduce((best, v, i) => (v > p[best]! ? i : best), 0);

/** Counts by true class (rows) and predicted class (columns). */
export function confusionMatrix(yTrue: readonly number[], yPred: readonly number[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  yTrue.forEach((y, i) => {
    m[y]![yPred[i]!]!++;
  });
  return m;
}

/** Multiclass log loss; each row is clipped to [eps, 1 − eps] and renormalized, as scikit-learn does. */
export function multiclassLogLoss(
  yTrue: readonly number[],
  proba: readonly (readonly number[])[],
  eps = LOG_LOSS_EPS,
): number {
  checkMulticlass(yTrue, proba);
  let sum = 0;
  yTrue.forEach((y, i) => {
    const clipped = proba[i]!.map((p) => Math.min(Math.max(p, eps), 1 - eps));
    const total = clipped.reduce((a, b) => a + b, 0);
    sum -= Math.log(clipped[y]! / total);
  });
  return sum / yTrue.length;
}

/** One class's metrics against the rest, as a multiclass evaluation reports them. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  rocAuc: number;
  prAuc: number;
  brierScore: number;
  calibrationError: number;
  support: number;
}

/**
 * Multiclass metrics from class probabilities: accuracy of the argmax, macro-averaged precision,
 * recall and F1; macro one-vs-rest ROC AUC (a MetricInputError if a class is absent) and PR AUC, Brier score and
 * expected calibration error; log loss.
 */
export function multiclassMetrics(
  yTrue: readonly number[],
  proba: readonly (readonly number[])[],
): ClassificationMetrics & {
  confusionMatrix: number[][];
  perClass: ClassMetrics[];
} {
  const k = checkMulticlass(yTrue, proba);
  const yPred = proba.map(argmax);
  const matrix = confusionMatrix(yTrue, yPred, k);
  const perClass = matrix.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((sum, r) => sum + r[c]!, 0);
    const oneVsRest = yTrue.map((y) => (y === c ? 1 : 0));
    const score = proba.map((p) => p[c]!);
    return {
      precision: ratio(tp, predicted),
      recall: ratio(tp, support),
      f1: ratio(2 * tp, predicted + support),
      rocAuc: rocAuc(oneVsRest, score),
      ...probabilityMetrics(oneVsRest, score),
      support,
    };
  });
  const macro = (key: Exclude<keyof ClassMetrics, 'support'>) => perClass.reduce((sum, c) => sum + c[key], 0) / k;
  const correct = matrix.reduce((sum, row, c) => sum + row[c]!, 0);
  return {
    accuracy: correct / yTrue.length,
    precision: macro('precision'),
    recall: macro('recall'),
    f1: macro('f1'),
    rocAuc: macro('rocAuc'),
    logLoss: multiclassLogLoss(yTrue, proba),
    prAuc: macro('prAuc'),
    brierScore: macro('brierScore'),
    calibrationError: macro('calibrationError'),
    rows: yTrue.length,
    confusionMatrix: matrix,
    perClass,
  };
}
