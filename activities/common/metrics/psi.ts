import type { Cell } from '../dataset/cells';

// Population stability index: sum over bins of (actual - expected) * ln(actual / expected), with
// proportions of all rows (missing values are a bin of their own when either side has any).
// Empty bins count as a tiny proportion so one empty bin does not make the index infinite.

const EMPTY_BIN = 1e-4;

export interface PsiBin {
  bin: string;
  reference: number;
  current: number;
  /** This bin's term of the sum. */
  contribution: number;
}

export interface Psi {
  psi: number;
  bins: PsiBin[];
}

/** Bin labels, the missing bin last, and which bin a value falls in. */
export interface Binning {
  labels: string[];
  binOf(value: Cell): number;
}

const MISSING = '(missing)';

/**
 * Quantile bins of the reference's values: up to `bins` intervals (lo, hi] whose edges are the
 * reference's quantiles, merged where ties make edges equal; the ends are open.
 */
export function numericBinning(reference: readonly number[], bins: number): Binning {
  const sorted = [...reference].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.max(0, Math.ceil((k * sorted.length) / bins) - 1)];
    if (edge !== undefined && edge !== edges[edges.length - 1] && edge !== sorted[sorted.length - 1]) edges.push(edge);
  }
  const labels = [...edges, Infinity].map(
    (hi, i) => `(${i === 0 ? '-inf' : edges[i - 1]}, ${hi === Infinity ? 'inf)' : `${hi}]`}`,
  );
  labels.push(MISSING);
  return {
    labels,
    binOf(value) {
      if (value === null) return edges.length + 1;
      const v = value as number;
      let lo = 0;
      let hi = edges.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= edges[mid]!) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    },
  };
}

/** One bin per category seen in the reference, one for categories it never had, and the missing bin. */
export function categoricalBinning(reference: readonly Cell[]): Binning {
  const index = new Map<string, number>();
  const labels: string[] = [];
  for (const value of reference) {
    if (value === null) continue;
    const key = String(value);
    if (!index.has(key)) {
      index.set(key, labels.length);
      labels.push(key);
    }
  }
  const unseen = labels.length;
  labels.push('(not in reference)', MISSING);
  return {
    labels,
    binOf: (value) => (value === null ? unseen + 1 : (index.get(String(value)) ?? unseen)),
  };
}

/** Counts values into a binning's bins. */
export function histogram(binning: Binning, values: Iterable<Cell>): number[] {
  const counts = binning.labels.map(() => 0);
  for (const value of values) counts[binning.binOf(value)]!++;
  return counts;
}

/** The PSI of the current counts against the reference counts, bin by bin; bins empty on both sides are left out. */
export function psi(labels: readonly string[], reference: readonly number[], current: readonly number[]): Psi {
  const total = (counts: readonly number[]) => counts.reduce((s, c) => s + c, 0);
  const r = total(reference);
  const c = total(current);
  if (r === 0 || c === 0) throw new Error(`PSI needs rows on both sides (reference ${r}, current ${c})`);
  const bins: PsiBin[] = [];
  labels.forEach((bin, i) => {
    if (reference[i] === 0 && current[i] === 0) return;
    const e = Math.max(reference[i]! / r, EMPTY_BIN);
    const a = Math.max(current[i]! / c, EMPTY_BIN);
    bins.push({ bin, reference: reference[i]! / r, current: current[i]! / c, contribution: (a - e) * Math.log(a / e) });
  });
  return { psi: bins.reduce((s, b) => s + b.contribution, 0), bins };
}
