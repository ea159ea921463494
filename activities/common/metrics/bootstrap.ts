import { mulberry32 } from '../random';

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
 * `n` rows drawn with replacement (seeded), and each metric's interval is the middle `level` of
 * its values. Resamples where a metric is NaN (a class missing from the sample) do not count.
 */
export function bootstrapIntervals(
  n: number,
  metrics: (rows: readonly number[]) => Record<string, number>,
  options: { resamples?: number; seed?: number; level?: number } = {},
): BootstrapIntervals {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? BOOTSTRAP_SEED;
  const level = options.level ?? 0.95;
  const random = mulberry32(seed);
  const values = new Map<string, number[]>();
  const rows = new Array<number>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) rows[i] = Math.floor(random() * n);
    for (const [name, value] of Object.entries(metrics(rows))) {
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

/** The q-quantile of sorted values, interpolating linearly between order statistics. */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}
