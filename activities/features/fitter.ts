import type { Cell } from '../common/dataset/cells';
import type { Column } from '../common/dataset/dataset';
import type { ColumnBatch } from '../common/dataset/dataset';
import {
  categoryOf,
  increasingInFloat32,
  type FeatureSpec,
  type NumericImpute,
  type TransformSpec,
} from '../common/model/transform';
import { quantile } from '../common/metrics/quantile';

// Fitting a transform from rows as they stream by, one row or a batch of columns at a time (the
// same arithmetic in the same row order, so both give the same bits). What a column gets is
// declared per column (`impute`, `bucketize`); a column declared nowhere is standardized or
// one-hot encoded.

/** How to fill a column's missing values: numbers mean | median | constant, categories mostFrequent | constant. */
export type ImputeChoice = 'mean' | 'median' | 'mostFrequent' | { constant: number | string | boolean };
/** Explicit bucket boundaries, or that many buckets of equal count on the training data. */
export type BucketChoice = { boundaries: number[] } | { quantiles: number };

export interface TransformOptions {
  impute?: Readonly<Record<string, ImputeChoice>>;
  bucketize?: Readonly<Record<string, BucketChoice>>;
}

/** A declaration that does not fit its column or its data; names the column. */
export class TransformFitError extends Error {
  constructor(
    readonly column: string,
    message: string,
  ) {
    super(`column '${column}': ${message}`);
    this.name = 'TransformFitError';
  }
}

/** A number a model cannot be fitted on: an infinite value, or values whose mean or spread overflows. */
export class NonFiniteFitError extends TransformFitError {
  constructor(
    column: string,
    readonly row: number,
    message: string,
  ) {
    super(column, message);
    this.name = 'NonFiniteFitError';
  }
}

const isNumeric = (c: Column) => c.type === 'number' || c.type === 'integer';

interface NumericStats {
  n: number;
  mean: number;
  m2: number;
  /** The present values, a batch at a time, kept when a median or quantiles are asked for. */
  values?: Float64Array[];
  /** The value of largest magnitude and its row (1-based), to name in an overflow. */
  largest: { value: number; row: number };
}

const infinite = (name: string, row: number, x: number) =>
  new NonFiniteFitError(
    name,
    row,
    `row ${row} holds ${x}; a model cannot be fitted on infinite values: fix or drop the row, or make it missing`,
  );

/**
 * Adds the values of one numeric column, rows `first`, `first + 1`, ... (1-based), to its Welford
 * statistics. Stops at an infinite value and returns its index in `x`; -1 when there is none.
 */
function addNumbers(s: NumericStats, x: ArrayLike<number>, first: number): number {
  let { n, mean, m2 } = s;
  let largest = Math.abs(s.largest.value);
  let at = -1;
  let kept: Float64Array | undefined;
  let k = 0;
  if (s.values) kept = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    // NaN is how a dataset marks a missing number; an infinity is a value no statistic survives.
    if (v !== v) continue;
    if (v === Infinity || v === -Infinity) {
      at = i;
      break;
    }
    if (Math.abs(v) > largest) {
      largest = Math.abs(v);
      s.largest = { value: v, row: first + i };
    }
    n++;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
    if (kept) kept[k++] = v;
  }
  s.n = n;
  s.mean = mean;
  s.m2 = m2;
  if (kept && k > 0) s.values!.push(k === kept.length ? kept : kept.slice(0, k));
  return at;
}

/** Counts the categories of one column; missing ('' too) counts for none. */
function addCategories(seen: Map<string, number>, x: ArrayLike<Cell>): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v === null || v === undefined || v === '') continue;
    const c = categoryOf(v);
    seen.set(c, (seen.get(c) ?? 0) + 1);
  }
}

/** The model reads features as float32: a statistic past its range makes every transformed value 0 or NaN. */
const FLOAT32_MAX = 3.4028234663852886e38;
const representable = (x: number) => Math.abs(x) <= FLOAT32_MAX;

/**
 * Fits a transform: Welford mean and population std for numeric columns (std 0 becomes 1, as in
 * scikit-learn's StandardScaler), sorted categories with their counts for the rest, and the
 * observed values of columns whose median or quantiles are asked for. Statistics are of the
 * values present; imputation does not feed back into them.
 */
export class TransformFitter {
  private readonly numeric = new Map<string, NumericStats>();
  private readonly categories = new Map<string, Map<string, number>>();
  private readonly impute: Readonly<Record<string, ImputeChoice>>;
  private readonly bucketize: Readonly<Record<string, BucketChoice>>;

  constructor(
    readonly label: string,
    readonly columns: readonly Column[],
    options: TransformOptions = {},
  ) {
    this.impute = options.impute ?? {};
    this.bucketize = options.bucketize ?? {};
    const byName = new Map(columns.map((c) => [c.name, c]));
    for (const [kind, declared] of [
      ['impute', this.impute],
      ['bucketize', this.bucketize],
    ] as const) {
      for (const name of Object.keys(declared)) {
        if (!byName.has(name))
          throw new TransformFitError(
            name,
            `${kind} names a column that is not a feature; features are ${columns.map((c) => c.name).join(', ')}`,
          );
      }
    }
    for (const c of columns) {
      const impute = this.impute[c.name];
      const bucket = this.bucketize[c.name];
      if (isNumeric(c)) {
        if (impute === 'mostFrequent')
          throw new TransformFitError(c.name, `is numeric; impute it with 'mean', 'median' or { constant: <number> }`);
        if (typeof impute === 'object' && typeof impute.constant !== 'number')
          throw new TransformFitError(
            c.name,
            `is numeric; its impute constant must be a number, not ${JSON.stringify(impute.constant)}`,
          );
        if (
          bucket &&
          'boundaries' in bucket &&
          !(bucket.boundaries.length > 0 && increasingInFloat32(bucket.boundaries))
        ) {
          throw new TransformFitError(
            c.name,
            `bucket boundaries [${bucket.boundaries.join(', ')}] must be finite and strictly increasing (in float32), at least one`,
          );
        }
        if (bucket && 'quantiles' in bucket && !(Number.isInteger(bucket.quantiles) && bucket.quantiles >= 2)) {
          throw new TransformFitError(
            c.name,
            `quantiles must be a whole number of buckets, at least 2, not ${bucket.quantiles}`,
          );
        }
        const keep = impute === 'median' || (bucket !== undefined && 'quantiles' in bucket);
        this.numeric.set(c.name, {
          n: 0,
          mean: 0,
          m2: 0,
          largest: { value: 0, row: 0 },
          ...(keep ? { values: [] as Float64Array[] } : {}),
        });
      } else {
        if (bucket) throw new TransformFitError(c.name, `is ${c.type}, not numeric; only numbers can be bucketized`);
        if (impute === 'mean' || impute === 'median')
          throw new TransformFitError(
            c.name,
            `is ${c.type}; impute it with 'mostFrequent' or { constant: <category> }`,
          );
        if (typeof impute === 'object' && categoryOf(impute.constant) === '')
          throw new TransformFitError(c.name, `the impute constant must not be empty; '' stands for a missing value`);
        this.categories.set(c.name, new Map());
      }
    }
  }

  private rows = 0;

  observe(row: Readonly<Record<string, Cell>>): void {
    this.rows++;
    for (const [name, s] of this.numeric) {
      const x = row[name];
      if (typeof x !== 'number') continue;
      if (addNumbers(s, [x], this.rows) >= 0) throw infinite(name, this.rows, x);
    }
    for (const [name, seen] of this.categories) {
      const x = row[name];
      if (x !== undefined) addCategories(seen, [x]);
    }
  }

  /**
   * Observes a batch of rows given as columns: numbers as Float64Arrays (NaN where missing),
   * others as cells. An infinite value fails as `observe` would, on its first row.
   */
  observeColumns(batch: ColumnBatch): void {
    const first = this.rows + 1;
    let bad: NonFiniteFitError | undefined;
    for (const [name, s] of this.numeric) {
      const x = batch.values.get(name);
      if (x === undefined) continue;
      const numbers = x instanceof Float64Array ? x : Float64Array.from(x, (v) => (typeof v === 'number' ? v : NaN));
      const at = addNumbers(s, numbers, first);
      // The row reader fails on the first such row, whichever column it is in; columns come in the same order.
      if (at >= 0 && (!bad || first + at < bad.row)) bad = infinite(name, first + at, numbers[at]!);
    }
    if (bad) throw bad;
    for (const [name, seen] of this.categories) {
      const x = batch.values.get(name);
      if (x !== undefined) addCategories(seen, x as ArrayLike<Cell>);
    }
    this.rows += batch.rows;
  }

  finish(): TransformSpec {
    const sorted = new Map<string, Float64Array>();
    const valuesOf = (name: string) => {
      let v = sorted.get(name);
      if (!v) sorted.set(name, (v = concat(this.numeric.get(name)!.values!).sort()));
      return v;
    };
    const features = this.columns.map((c): FeatureSpec => {
      const s = this.numeric.get(c.name);
      const impute = this.impute[c.name];
      if (s) {
        const mean = s.n > 0 ? s.mean : 0;
        let fill: NumericImpute | undefined;
        if (impute !== undefined) {
          if (typeof impute === 'object') fill = { strategy: 'constant', value: impute.constant as number };
          else if (s.n === 0)
            throw new TransformFitError(c.name, `has no values in the training data to take the ${impute} of`);
          else
            fill = {
              strategy: impute as 'mean' | 'median',
              value: impute === 'mean' ? mean : quantile(valuesOf(c.name), 0.5),
            };
        }
        const bucket = this.bucketize[c.name];
        if (bucket) {
          let boundaries: number[];
          if ('boundaries' in bucket) boundaries = [...bucket.boundaries];
          else {
            if (s.n === 0)
              throw new TransformFitError(c.name, 'has no values in the training data to take quantiles of');
            const values = valuesOf(c.name);
            const cuts = Array.from({ length: bucket.quantiles - 1 }, (_, i) =>
              quantile(values, (i + 1) / bucket.quantiles),
            );
            // Ties make equal cuts; keep one of each, so that every bucket can hold a value.
            boundaries = cuts.filter((v, i) => i === 0 || Math.fround(v) > Math.fround(cuts[i - 1]!));
            if (values[0] === values[values.length - 1])
              throw new TransformFitError(
                c.name,
                `has the single value ${values[0]} in the training data; it cannot be split into quantile buckets`,
              );
          }
          return { name: c.name, type: 'bucketized', boundaries, ...(fill ? { impute: fill } : {}) };
        }
        const std = s.n > 0 ? Math.sqrt(s.m2 / s.n) : 0;
        if (!representable(mean) || !representable(std))
          throw new NonFiniteFitError(
            c.name,
            s.largest.row,
            `its values (up to ${s.largest.value.toPrecision(3)} on row ${s.largest.row}) overflow the mean or spread the model reads in float32; rescale the column or drop those rows`,
          );
        return { name: c.name, type: 'numeric', mean, std: std > 0 ? std : 1, ...(fill ? { impute: fill } : {}) };
      }
      const counts = this.categories.get(c.name)!;
      // Code-unit order, not locale order: the same on every machine.
      const categories = [...counts.keys()].sort();
      if (impute === undefined) return { name: c.name, type: 'categorical', categories };
      if (typeof impute === 'object') {
        // A constant is a category of its own (as scikit-learn's imputer then encoder would see it).
        const value = categoryOf(impute.constant);
        return {
          name: c.name,
          type: 'categorical',
          categories: categories.includes(value) ? categories : [...categories, value].sort(),
          impute: { strategy: 'constant', value },
        };
      }
      if (categories.length === 0)
        throw new TransformFitError(c.name, 'has no values in the training data to take the most frequent of');
      // Ties go to the first in sorted order, as scikit-learn's SimpleImputer does.
      const value = categories.reduce((best, k) => (counts.get(k)! > counts.get(best)! ? k : best));
      return { name: c.name, type: 'categorical', categories, impute: { strategy: 'mostFrequent', value } };
    });
    const extras = Object.keys(this.impute).length + Object.keys(this.bucketize).length > 0;
    return { kind: 'kiln.transform', version: extras ? 2 : 1, label: this.label, features };
  }
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
