import { countDraws } from '../random';
import { scoreOrder } from './score-order';

/** A percentile bootstrap: the settings it ran with and each metric's interval. */
export interface BootstrapIntervals {
  level: number;
  resamples: number;
  seed: number;
  /** Per metric, the interval's bounds; a metric undefined on most resamples (0/0) is left out. */
  intervals: Record<string, { low: number; high: number }>;
}

/** Fixed, so an evaluation of the same predictions reports the same intervals every time. */
export const BOOTSTRAP_SEED = 20_261_130;
export const BOOTSTRAP_RESAMPLES = 200;

/**
 * Percentile bootstrap confidence intervals: `metrics` is computed on `resamples` samples of the
 * `n` rows drawn with replacement (seeded), given as how many times each row was drawn, and each
 * metric's interval is the middle `level` of its values. Resamples where a metric is NaN (a class
 * missing from the sample) do not count.
 */
export function bootstrapIntervals(
  n: number,
  metrics: (weights: Uint8Array) => Record<string, number>,
  options: { resamples?: number; seed?: number; level?: number } = {},
): BootstrapIntervals {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? BOOTSTRAP_SEED;
  const level = options.level ?? 0.95;
  let state = seed;
  const values = new Map<string, number[]>();
  const weights = new Uint8Array(n);
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    state = countDraws(weights, n, state);
    for (const [name, value] of Object.entries(metrics(weights))) {
      if (!Number.isFinite(value)) continue;
      if (!values.has(name)) values.set(name, []);
      values.get(name)!.push(value);
    }
  }
  const intervals: BootstrapIntervals['intervals'] = {};
  for (const [name, list] of values) {
    if (list.length < resamples / 2) continue;
    list.sort((a, b) => a - b);
    intervals[name] = { low: quantile(list, (1 - level) / 2), high: quantile(list, 1 - (1 - level) / 2) };
  }
  return { level, resamples, seed, intervals };
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/**
 * Intervals of a binary classifier's accuracy, precision, recall, F1, ROC AUC, log loss and Brier
 * score, as `binaryMetrics` defines them. The rows are sorted by score once (stably), and a
 * resample weighs each sorted row by its draw count: one sequential pass per resample, no sort.
 */
export function binaryIntervals(
  yTrue: readonly number[],
  scores: readonly number[],
  threshold: number,
  logLossEps: number,
): BootstrapIntervals {
  const n = yTrue.length;
  const order = scoreOrder(scores, 'ascending');
  const score = Float64Array.from(order, (i) => scores[i]!);
  const loss = Float64Array.from(order, (i) => {
    const p = Math.min(Math.max(scores[i]!, logLossEps), 1 - logLossEps);
    return yTrue[i] === 1 ? -Math.log(p) : -Math.log(1 - p);
  });
  const positive = Uint8Array.from(order, (i) => (yTrue[i] === 1 ? 1 : 0));
  const squared = Float64Array.from(order, (i) => (scores[i]! - yTrue[i]!) ** 2);
  // Where each run of tied scores ends: ROC AUC shares a tie's credit out evenly.
  const tieEnd = new Uint32Array(n);
  for (let j = n - 1; j >= 0; j--) tieEnd[j] = j + 1 < n && score[j + 1] === score[j] ? tieEnd[j + 1]! : j + 1;
  return bootstrapIntervals(n, (w) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let tn = 0;
    let logLoss = 0;
    let brier = 0;
    // Mann-Whitney in ascending score: a positive beats every negative below it and half of those tied with it.
    let pairs = 0;
    let negativesBelow = 0;
    for (let g = 0; g < n;) {
      let positives = 0;
      let drawn = 0;
      const end = tieEnd[g]!;
      for (; g < end; g++) {
        const weight = w[g]!;
        // No branch on a row drawn no times: it adds zeros (its loss and score are finite), which leave every sum as it was.
        drawn += weight;
        positives += weight * positive[g]!;
        logLoss += weight * loss[g]!;
        brier += weight * squared[g]!;
      }
      const negatives = drawn - positives;
      if (score[end - 1]! >= threshold) {
        tp += positives;
        fp += negatives;
      } else {
        fn += positives;
        tn += negatives;
      }
      pairs += positives * (negativesBelow + negatives / 2);
      negativesBelow += negatives;
    }
    const p = tp + fn;
    return {
      accuracy: (tp + tn) / n,
      precision: ratio(tp, tp + fp),
      recall: ratio(tp, p),
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      rocAuc: p === 0 || negativesBelow === 0 ? Number.NaN : pairs / (p * negativesBelow),
      logLoss: logLoss / n,
      brierScore: brier / n,
    };
  });
}

/** Intervals of a multiclass classifier's accuracy, log loss and Brier score (per-row quantities, weighted). */
export function multiclassIntervals(
  yTrue: readonly number[],
  proba: readonly (readonly number[])[],
  logLossEps: number,
): BootstrapIntervals {
  const correct = proba.map((p, i) => (p.indexOf(Math.max(...p)) === yTrue[i] ? 1 : 0));
  const loss = proba.map((p, i) => {
    const clipped = p.map((v) => Math.min(Math.max(v, logLossEps), 1 - logLossEps));
    return -Math.log(clipped[yTrue[i]!]! / clipped.reduce((a, b) => a + b, 0));
  });
  // The macro one-vs-rest Brier score is the mean over rows of each row's mean squared gap.
  const brier = proba.map((p, i) => p.reduce((sum, v, c) => sum + (v - (c === yTrue[i] ? 1 : 0)) ** 2, 0) / p.length);
  const weighted = (w: Uint8Array, values: readonly number[]) =>
    values.reduce((sum, v, i) => sum + w[i]! * v, 0) / values.length;
  return bootstrapIntervals(yTrue.length, (w) => ({
    accuracy: weighted(w, correct),
    logLoss: weighted(w, loss),
    brierScore: weighted(w, brier),
  }));
}
/** The q-quantile of sorted values, interpolating linearly between order statistics. */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}
