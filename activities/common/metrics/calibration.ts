import {
  MetricInputError,
  checkBinary,
  checkFinite,
  checkLengths,
  checkProbabilities,
  type Numbers,
} from './input-check';
import { scoreOrder } from './score-order';

/** Precision and recall at each distinct score threshold, as scikit-learn's `precision_recall_curve`. */
export interface PrecisionRecallCurve {
  /** Increasing thresholds; `precision[i]` and `recall[i]` are for predicting positive when score >= thresholds[i]. */
  thresholds: number[];
  /** One longer than `thresholds`: the last point is (recall 0, precision 1). */
  precision: number[];
  recall: number[];
}

interface ThresholdCounts {
  thresholds: number[];
  tps: number[];
  fps: number[];
}

// Cumulative true and false positives at each distinct score, from the highest score down;
// tied scores form one threshold, as in scikit-learn's _binary_clf_curve.
function countsByThreshold(yTrue: Numbers, yScore: Numbers): ThresholdCounts {
  const order = scoreOrder(yScore, 'descending');
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (yTrue[i] === 1) tp++;
    else fp++;
    const next = order[k + 1];
    if (next === undefined || yScore[next] !== yScore[i]) {
      thresholds.push(yScore[i]!);
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { thresholds, tps, fps };
}

function checkScores(metric: string, yTrue: Numbers, yScore: Numbers): void {
  checkLengths(metric, yTrue, yScore, ['yTrue', 'yScore']);
  checkBinary(metric, yTrue);
  checkFinite(metric, yScore, 'yScore');
}

function positives(yTrue: Numbers): number {
  let n = 0;
  for (let i = 0; i < yTrue.length; i++) n += yTrue[i]!;
  return n;
}

/** Precision-recall points for plotting; requires at least one positive label. */
export function precisionRecallCurve(yTrue: Numbers, yScore: Numbers): PrecisionRecallCurve {
  checkScores('precision_recall_curve', yTrue, yScore);
  const total = positives(yTrue);
  if (total === 0) {
    throw new MetricInputError(
      'precision_recall_curve',
      'yTrue has no positive label, so recall is undefined; evaluate on a holdout that contains both classes',
    );
  }
  const { thresholds, tps, fps } = countsByThreshold(yTrue, yScore);
  const curve: PrecisionRecallCurve = { thresholds: [], precision: [], recall: [] };
  for (let k = thresholds.length - 1; k >= 0; k--) {
    curve.thresholds.push(thresholds[k]!);
    curve.precision.push(tps[k]! / (tps[k]! + fps[k]!));
    curve.recall.push(tps[k]! / total);
  }
  curve.precision.push(1);
  curve.recall.push(0);
  return curve;
}

/**
 * PR AUC as average precision, AP = Σ (R_k − R_{k−1}) P_k over distinct thresholds from the highest
 * score down: scikit-learn's `average_precision_score` (no interpolation, ties form one threshold).
 */
export function averagePrecision(yTrue: Numbers, yScore: Numbers): number {
  checkScores('average_precision', yTrue, yScore);
  const total = positives(yTrue);
  if (total === 0) {
    throw new MetricInputError(
      'average_precision',
      'yTrue has no positive label, so average precision is undefined; evaluate on a holdout that contains both classes',
    );
  }
  const { tps, fps } = countsByThreshold(yTrue, yScore);
  let ap = 0;
  let previousRecall = 0;
  for (let k = 0; k < tps.length; k++) {
    const recall = tps[k]! / total;
    ap += (recall - previousRecall) * (tps[k]! / (tps[k]! + fps[k]!));
    previousRecall = recall;
  }
  return ap;
}

/** Brier score: the mean squared difference between the predicted probability of class 1 and the 0/1 label. */
export function brierScore(yTrue: Numbers, yProb: Numbers): number {
  checkLengths('brier_score', yTrue, yProb, ['yTrue', 'yProb']);
  checkBinary('brier_score', yTrue);
  checkProbabilities('brier_score', yProb);
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += (yProb[i]! - yTrue[i]!) ** 2;
  return sum / yTrue.length;
}

export interface CalibrationOptions {
  /** Number of bins; 10 unless declared. */
  bins?: number;
  /** `uniform`: equal-width bins on [0, 1]; `quantile`: bins holding equal numbers of rows. */
  strategy?: 'uniform' | 'quantile';
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin; NaN for an empty bin. */
  meanPredicted: number;
  /** Fraction of rows in the bin whose label is 1; NaN for an empty bin. */
  fractionPositive: number;
}

export interface CalibrationReport {
  strategy: 'uniform' | 'quantile';
  /** Expected calibration error: Σ_b (n_b / n) |meanPredicted_b − fractionPositive_b|. */
  ece: number;
  /** Maximum calibration error: the largest gap over non-empty bins. */
  mce: number;
  /** Every declared bin, empty ones included, so a reliability diagram can be drawn from the report. */
  bins: CalibrationBin[];
}

// Bin edges computed as numpy does (linspace: i * step; percentile: linear interpolation), so that
// a probability on an edge lands in the same bin as in scikit-learn's calibration_curve.
function binEdges(yProb: Numbers, bins: number, strategy: 'uniform' | 'quantile'): number[] {
  const edges: number[] = [];
  const step = 1 / bins;
  if (strategy === 'uniform') {
    for (let i = 0; i < bins; i++) edges.push(i * step);
    edges.push(1);
    return edges;
  }
  const sorted = Array.from(yProb).sort((a, b) => a - b);
  const last = sorted.length - 1;
  for (let i = 0; i <= bins; i++) {
    const q = ((i === bins ? 1 : i * step) * 100) / 100;
    const position = last * q;
    if (position >= last) {
      edges.push(sorted[last]!);
      continue;
    }
    const lo = Math.floor(position);
    const a = sorted[lo]!;
    const b = sorted[lo + 1]!;
    const t = position - lo;
    edges.push(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t);
  }
  return edges;
}

/**
 * Reliability bins with expected and maximum calibration error, binned as scikit-learn's
 * `calibration_curve`: a probability equal to an inner edge belongs to the lower bin.
 */
export function calibration(yTrue: Numbers, yProb: Numbers, options: CalibrationOptions = {}): CalibrationReport {
  const bins = options.bins ?? 10;
  const strategy = options.strategy ?? 'uniform';
  if (!Number.isInteger(bins) || bins < 1) {
    throw new MetricInputError(
      'calibration_error',
      `bins is ${bins}; declare a positive whole number of bins, such as 10`,
    );
  }
  checkLengths('calibration_error', yTrue, yProb, ['yTrue', 'yProb']);
  checkBinary('calibration_error', yTrue);
  checkProbabilities('calibration_error', yProb);
  const edges = binEdges(yProb, bins, strategy);
  const count = new Array<number>(bins).fill(0);
  const sumProb = new Array<number>(bins).fill(0);
  const sumTrue = new Array<number>(bins).fill(0);
  for (let i = 0; i < yProb.length; i++) {
    const p = yProb[i]!;
    let b = 0;
    while (b < bins - 1 && edges[b + 1]! < p) b++;
    count[b]!++;
    sumProb[b]! += p;
    sumTrue[b]! += yTrue[i]!;
  }
  let ece = 0;
  let mce = 0;
  const report: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b]!;
    const meanPredicted = n > 0 ? sumProb[b]! / n : Number.NaN;
    const fractionPositive = n > 0 ? sumTrue[b]! / n : Number.NaN;
    if (n > 0) {
      const gap = Math.abs(meanPredicted - fractionPositive);
      ece += (n / yProb.length) * gap;
      mce = Math.max(mce, gap);
    }
    report.push({ lower: edges[b]!, upper: edges[b + 1]!, count: n, meanPredicted, fractionPositive });
  }
  return { strategy, ece, mce, bins: report };
}

/** Expected calibration error alone; see {@link calibration} for the bins behind it. */
export function expectedCalibrationError(yTrue: Numbers, yProb: Numbers, options: CalibrationOptions = {}): number {
  return calibration(yTrue, yProb, options).ece;
}
