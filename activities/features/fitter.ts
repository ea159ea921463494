import type { Cell } from '../common/dataset/cells';
import type { Column } from '../common/dataset/dataset';
import {
  categoryOf,
  increasingInFloat32,
  type FeatureSpec,
  type NumericImpute,
  type TransformSpec,
} from '../common/model/transform';
import { quantile } from '../common/metrics/quantile';

// Fitting a transform from rows as they stream by. What a column gets is declared per column
// (`impute`, `bucketize`); a column declared nowhere is standardized or one-hot encoded.

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
  values?: number[];
  /** The value of largest magnitude and its row (1-based), to name in an overflow. */
  largest: { value: number; row: number };
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
          ...(keep ? { values: [] } : {}),
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
      // NaN is how a dataset marks a missing number; an infinity is a value no statistic survives.
      if (typeof x !== 'number' || Number.isNaN(x)) continue;
      if (!Number.isFinite(x))
        throw new NonFiniteFitError(
          name,
          this.rows,
          `row ${this.rows} holds ${x}; a model cannot be fitted on infinite values: fix or drop the row, or make it missing`,
        );
      if (Math.abs(x) > Math.abs(s.largest.value)) s.largest = { value: x, row: this.rows };
      s.n++;
      const delta = x - s.mean;
      s.mean += delta / s.n;
      s.m2 += delta * (x - s.mean);
      s.values?.push(x);
    }
    for (const [name, seen] of this.categories) {
      const x = row[name];
      if (x === null || x === undefined || x === '') continue;
      const c = categoryOf(x);
      seen.set(c, (seen.get(c) ?? 0) + 1);
    }
  }

  finish(): TransformSpec {
    const sorted = new Map<string, Float64Array>();
    const valuesOf = (name: string) => {
      let v = sorted.get(name);
      if (!v) sorted.set(name, (v = Float64Array.from(this.numeric.get(name)!.values!).sort()));
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
