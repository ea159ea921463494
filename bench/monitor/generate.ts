// Deterministic drift benchmark data: a reference (the training data) and a current window (the prediction log) of
// 20 features, 12 numeric and 8 categorical, with drift injected into some of them. The same seed gives the same
// bytes on every machine: a xorshift128+ generator and Box–Muller normals, no Math.random.
import type { CategoricalColumn, FeatureKind } from '../../monitor/drift';

export interface FeatureSpec {
  name: string;
  kind: FeatureKind;
  /** What the reference holds and what changes in the window. */
  about: string;
}

export interface GeneratedColumn {
  spec: FeatureSpec;
  reference: Float64Array | Codes;
  current: Float64Array | Codes;
}

/** A categorical column as codes into `categories`; code 0xffff is a missing value. */
export interface Codes {
  codes: Uint16Array;
  categories: string[];
}

export const MISSING_CODE = 0xffff;

class Random {
  // xoshiro128**, 32-bit words, seeded by splitmix32.
  private readonly s = new Uint32Array(4);
  private spare: number | undefined;
  constructor(seed: number) {
    let z = seed >>> 0;
    for (let k = 0; k < 4; k++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      this.s[k] = (t ^ (t >>> 15)) >>> 0;
    }
  }
  private next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.next() >>> 5) * 67108864 + (this.next() >>> 6)) / 9007199254740992;
  }
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** An index drawn with the given weights (summing to 1). */
  pick(cumulative: Float64Array): number {
    const u = this.uniform();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! <= u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

function numeric(rows: number, rnd: Random, draw: (r: Random) => number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = draw(rnd);
  return out;
}

function categorical(rows: number, rnd: Random, weights: number[], missing = 0): Codes {
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((w, k) => {
    acc += w / total;
    cumulative[k] = acc;
  });
  cumulative[weights.length - 1] = 1;
  const codes = new Uint16Array(rows);
  for (let i = 0; i < rows; i++)
    codes[i] = missing > 0 && rnd.uniform() < missing ? MISSING_CODE : rnd.pick(cumulative);
  return { codes, categories: weights.map((_, k) => `v${k}`) };
}

const zipf = (n: number, s: number): number[] => Array.from({ length: n }, (_, k) => 1 / (k + 1) ** s);

/** The 20 features: rows of reference and of current window, from one seed. */
export function generate(referenceRows: number, currentRows: number, seed = 20261130): GeneratedColumn[] {
  const rnd = new Random(seed);
  const both = (
    spec: FeatureSpec,
    ref: (rows: number) => Float64Array | Codes,
    cur: (rows: number) => Float64Array | Codes,
  ): GeneratedColumn => ({ spec, reference: ref(referenceRows), current: cur(currentRows) });
  const num = (mean: number, sd: number) => (rows: number) => numeric(rows, rnd, (r) => mean + sd * r.normal());
  const cat =
    (weights: number[], missing = 0) =>
    (rows: number) =>
      categorical(rows, rnd, weights, missing);
  const spec = (name: string, kind: FeatureKind, about: string): FeatureSpec => ({ name, kind, about });
  return [
    both(spec('n00', 'numeric', 'normal, no drift'), num(0, 1), num(0, 1)),
    both(spec('n01', 'numeric', 'normal, mean +0.02 sd'), num(0, 1), num(0.02, 1)),
    both(spec('n02', 'numeric', 'normal, mean +0.2 sd'), num(0, 1), num(0.2, 1)),
    both(spec('n03', 'numeric', 'normal(50, 10), sd ×1.5'), num(50, 10), num(50, 15)),
    both(spec('n04', 'numeric', 'normal, mean +0.09 sd (near the threshold)'), num(0, 1), num(0.09, 1)),
    both(
      spec('n05', 'numeric', 'lognormal, scale ×1.3'),
      (rows) => numeric(rows, rnd, (r) => Math.exp(r.normal())),
      (rows) => numeric(rows, rnd, (r) => 1.3 * Math.exp(r.normal())),
    ),
    both(
      spec('n06', 'numeric', 'uniform(0, 1), no drift'),
      (rows) => numeric(rows, rnd, (r) => r.uniform()),
      (rows) => numeric(rows, rnd, (r) => r.uniform()),
    ),
    both(
      spec('n07', 'numeric', 'integers 0..49 (ties), shifted by 3'),
      (rows) => numeric(rows, rnd, (r) => Math.min(49, Math.max(0, Math.round(25 + 8 * r.normal())))),
      (rows) => numeric(rows, rnd, (r) => Math.min(49, Math.max(0, Math.round(28 + 8 * r.normal())))),
    ),
    both(
      spec('n08', 'numeric', 'three values, shares move'),
      (rows) => numeric(rows, rnd, (r) => [1, 2, 3][r.pick(Float64Array.of(0.5, 0.8, 1))]!),
      (rows) => numeric(rows, rnd, (r) => [1, 2, 3][r.pick(Float64Array.of(0.4, 0.8, 1))]!),
    ),
    both(
      spec('n09', 'numeric', 'binary 0/1, no drift'),
      (rows) => numeric(rows, rnd, (r) => (r.uniform() < 0.3 ? 1 : 0)),
      (rows) => numeric(rows, rnd, (r) => (r.uniform() < 0.3 ? 1 : 0)),
    ),
    both(
      spec('n10', 'numeric', 'normal with 1% NaN and 0.1% ±Infinity, mean +0.15'),
      (rows) => numeric(rows, rnd, (r) => withMissing(r, r.normal())),
      (rows) => numeric(rows, rnd, (r) => withMissing(r, 0.15 + r.normal())),
    ),
    both(
      spec('n11', 'numeric', 'exponential, no drift'),
      (rows) => numeric(rows, rnd, (r) => -Math.log(1 - r.uniform())),
      (rows) => numeric(rows, rnd, (r) => -Math.log(1 - r.uniform())),
    ),
    both(spec('c00', 'categorical', '3 levels, no drift'), cat([5, 3, 2]), cat([5, 3, 2])),
    both(
      spec('c01', 'categorical', '10 levels, one level doubles'),
      cat(zipf(10, 1)),
      cat([...zipf(10, 1).slice(0, 9), 0.2]),
    ),
    both(spec('c02', 'categorical', '50 levels (zipf), no drift'), cat(zipf(50, 1.1)), cat(zipf(50, 1.1))),
    both(spec('c03', 'categorical', 'binary, 30% to 40%'), cat([7, 3]), cat([6, 4])),
    both(
      spec('c04', 'categorical', '5 levels, a new level in the window'),
      cat([1, 1, 1, 1, 0]),
      cat([1, 1, 1, 1, 0.3]),
    ),
    both(
      spec('c05', 'categorical', '4 levels with 2% missing, no drift'),
      cat([4, 3, 2, 1], 0.02),
      cat([4, 3, 2, 1], 0.02),
    ),
    both(spec('c06', 'categorical', '200 levels (zipf), tail thickens'), cat(zipf(200, 1.2)), cat(zipf(200, 1.0))),
    both(spec('c07', 'categorical', '6 levels, shares reverse'), cat([6, 5, 4, 3, 2, 1]), cat([1, 2, 3, 4, 5, 6])),
  ];
}

function withMissing(r: Random, value: number): number {
  const u = r.uniform();
  if (u < 0.01) return NaN;
  if (u < 0.0105) return Infinity;
  if (u < 0.011) return -Infinity;
  return value;
}

/** Categorical codes as the strings Kiln takes (null for missing). */
export function decode({ codes, categories }: Codes, from = 0, to = codes.length): CategoricalColumn {
  const out = new Array<string | null>(to - from);
  for (let i = from; i < to; i++) out[i - from] = codes[i] === MISSING_CODE ? null : categories[codes[i]!]!;
  return out;
}
