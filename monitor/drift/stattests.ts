import erfc from '@stdlib/math-base-special-erfc';
import gammainc from '@stdlib/math-base-special-gammainc';
import { ks2samp } from './ks';
import { alignCounts, type NumericSample, type Sample, sampleSize } from './samples';

// Each test computes what Evidently's stattest of the same name computes (evidently/legacy/calculations/stattests/),
// on samples with the missing values already dropped.

export interface TestValue {
  statistic: number;
  pValue?: number;
}

/** Two-sample Kolmogorov–Smirnov: D and SciPy's ks_2samp p-value (method 'auto'). */
export function ksTest(reference: NumericSample, current: NumericSample): TestValue {
  const { statistic, pValue } = ks2samp(reference.sorted, current.sorted);
  return { statistic, pValue };
}

/**
 * Pearson's chi-square of the current counts against the reference shares scaled to the current size, with
 * (categories − 1) degrees of freedom. A category the reference never saw makes the statistic infinite (p = 0), as in
 * SciPy. One category alone gives p = 1 (SciPy's answer there is NaN, which Evidently reads as "no drift").
 */
export function chiSquareTest(reference: Sample, current: Sample): TestValue {
  const { reference: ref, current: cur } = alignCounts(reference, current);
  const scale = sampleSize(current) / sampleSize(reference);
  let statistic = 0;
  for (let k = 0; k < ref.length; k++) {
    const expected = ref[k]! * scale;
    const diff = cur[k]! - expected;
    statistic += (diff * diff) / expected;
  }
  const dof = ref.length - 1;
  if (dof === 0) return { statistic, pValue: 1 };
  const pValue = statistic === Infinity ? 0 : gammainc(statistic / 2, dof / 2, true, true);
  return { statistic, pValue };
}

/**
 * Two-proportion Z-test on a binary feature: the share of values other than the smallest, pooled variance,
 * two-sided p-value. Both samples holding one and the same value give p = 1.
 */
export function zTest(reference: Sample, current: Sample): TestValue {
  const { reference: ref, current: cur } = alignCounts(reference, current);
  if (ref.length === 1) return { statistic: 0, pValue: 1 };
  const n1 = sampleSize(reference);
  const n2 = sampleSize(current);
  const p1 = (n1 - ref[0]!) / n1;
  const p2 = (n2 - cur[0]!) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  return { statistic, pValue: erfc(Math.abs(statistic) / Math.SQRT2) };
}

/** Population stability index over Evidently's bins, empty bins filled with a small share first. */
export function psiTest(reference: Sample, current: Sample): TestValue {
  const { reference: r, current: c } = binnedShares(reference, current);
  fillZeroes(r);
  fillZeroes(c);
  let statistic = 0;
  for (let k = 0; k < r.length; k++) statistic += (r[k]! - c[k]!) * Math.log(r[k]! / c[k]!);
  return { statistic };
}

/** Jensen–Shannon distance (natural log, as SciPy's default) between Evidently's binned shares. */
export function jensenShannonTest(reference: Sample, current: Sample): TestValue {
  const { reference: r, current: c } = binnedShares(reference, current);
  const sr = sum(r);
  const sc = sum(c);
  let left = 0;
  let right = 0;
  for (let k = 0; k < r.length; k++) {
    const p = r[k]! / sr;
    const q = c[k]! / sc;
    const m = (p + q) / 2;
    if (p > 0) left += p * Math.log(p / m);
    if (q > 0) right += q * Math.log(q / m);
  }
  return { statistic: Math.sqrt((left + right) / 2) };
}

/** First Wasserstein distance between the two samples divided by the reference's standard deviation (at least 0.001). */
export function wassersteinTest(reference: NumericSample, current: NumericSample): TestValue {
  return { statistic: wasserstein(reference.sorted, current.sorted) / Math.max(std(reference.sorted), 0.001) };
}

/** ∫|F_a − F_b| over two ascending samples, the area between their ECDFs (SciPy's wasserstein_distance). */
export function wasserstein(a: Float64Array, b: Float64Array): number {
  const na = a.length;
  const nb = b.length;
  let i = 0;
  let j = 0;
  let x = b.length === 0 || a[0]! <= b[0]! ? a[i++]! : b[j++]!;
  let total = 0;
  let compensation = 0;
  // One merged pass: after taking x, the ECDFs at x weigh the gap to the next value. Ties give a zero gap, so the
  // counts only matter once every copy of x has been taken, as in SciPy's searchsorted(side='right').
  while (i < na || j < nb) {
    const diff = Math.abs(i / na - j / nb);
    const y = j >= nb || (i < na && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    const term = diff * (y - x);
    // Neumaier's compensated sum: a million terms of mixed size stay exact to the last bits.
    const t = total + term;
    compensation += total >= term ? total - t + term : term - t + total;
    total = t;
    x = y;
  }
  return total + compensation;
}

/** Population standard deviation (NumPy's np.std, ddof 0), two-pass with compensated sums. */
export function std(values: Float64Array): number {
  const mean = sum(values) / values.length;
  let total = 0;
  let compensation = 0;
  for (let k = 0; k < values.length; k++) {
    const d = values[k]! - mean;
    const term = d * d;
    const t = total + term;
    compensation += total >= term ? total - t + term : term - t + total;
    total = t;
  }
  return Math.sqrt((total + compensation) / values.length);
}

function sum(values: Float64Array): number {
  let total = 0;
  let compensation = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    const t = total + v;
    compensation += Math.abs(total) >= Math.abs(v) ? total - t + v : v - t + total;
    total = t;
  }
  return total + compensation;
}

/**
 * Evidently's get_binned_data: a numeric feature whose reference has more than 20 distinct values is cut into
 * NumPy's 'sturges' bins over both samples together; anything else is counted per value. Shares are of each
 * sample's size.
 */
export function binnedShares(reference: Sample, current: Sample): { reference: Float64Array; current: Float64Array } {
  if (reference.kind === 'numeric' && current.kind === 'numeric' && distinctSorted(reference.sorted, 21) > 20) {
    const edges = sturgesEdges(reference.sorted, current.sorted);
    return { reference: histogram(reference.sorted, edges), current: histogram(current.sorted, edges) };
  }
  const { reference: r, current: c } = alignCounts(reference, current);
  const nr = sampleSize(reference);
  const nc = sampleSize(current);
  for (let k = 0; k < r.length; k++) {
    r[k] = r[k]! / nr;
    c[k] = c[k]! / nc;
  }
  return { reference: r, current: c };
}

function distinctSorted(values: Float64Array, cap: number): number {
  let distinct = values.length > 0 ? 1 : 0;
  for (let k = 1; k < values.length && distinct < cap; k++) if (values[k] !== values[k - 1]) distinct++;
  return distinct;
}

/**
 * np.histogram_bin_edges(concat(a, b), bins='sturges'): ceil(range / (range / (log2(n) + 1))) equal bins from the
 * minimum to the maximum, edges placed as np.linspace places them (start + i·step, the last one exactly the maximum).
 */
export function sturgesEdges(a: Float64Array, b: Float64Array): Float64Array {
  let first = Math.min(a[0]!, b[0]!);
  let last = Math.max(a[a.length - 1]!, b[b.length - 1]!);
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const delta = last - first;
  const width = delta / (Math.log2(a.length + b.length) + 1);
  const bins = width ? Math.ceil(delta / width) : 1;
  const edges = new Float64Array(bins + 1);
  const step = delta / bins;
  for (let k = 0; k < bins; k++) edges[k] = k * step + first;
  edges[bins] = last;
  return edges;
}

/** np.histogram(values, edges) / n over ascending values: [e_k, e_k+1) with the last bin closed. */
export function histogram(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const shares = new Float64Array(bins);
  let previous = lowerBound(sorted, edges[0]!);
  for (let k = 0; k < bins; k++) {
    const next = k === bins - 1 ? upperBound(sorted, edges[bins]!) : lowerBound(sorted, edges[k + 1]!);
    shares[k] = (next - previous) / sorted.length;
    previous = next;
  }
  return shares;
}

function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Evidently's "feel zeroes": empty bins get min(non-empty share)/10⁶ when that minimum is at most 0.0001, else 0.0001. */
function fillZeroes(shares: Float64Array): void {
  let min = Infinity;
  for (let k = 0; k < shares.length; k++) if (shares[k]! !== 0 && shares[k]! < min) min = shares[k]!;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let k = 0; k < shares.length; k++) if (shares[k] === 0) shares[k] = fill;
}
