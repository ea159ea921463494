import type { Cell } from '../data/cells';
import type { Column } from '../data/dataset';

// The fitted preprocessing, as data. `applyTransform` is the one definition of what a model
// sees: training, evaluation and serving all call it, so they cannot drift apart.

export interface NumericFeature {
  name: string;
  type: 'numeric';
  mean: number;
  std: number;
}

export interface CategoricalFeature {
  name: string;
  type: 'categorical';
  categories: string[];
}

export type FeatureSpec = NumericFeature | CategoricalFeature;

export interface TransformSpec {
  kind: 'kiln.transform';
  version: 1;
  label: string;
  features: FeatureSpec[];
}

/** A value a transform cannot read, such as text in a numeric feature. */
export class TransformInputError extends Error {
  constructor(readonly feature: string, readonly value: unknown, message: string) {
    super(`feature '${feature}': ${message}`);
    this.name = 'TransformInputError';
  }
}

/** The length of the vectors a transform produces: one per numeric feature, one per category. */
export const transformWidth = (spec: TransformSpec): number =>
  spec.features.reduce((width, f) => width + (f.type === 'numeric' ? 1 : f.categories.length), 0);

/** A name for each slot of the output vector: `age`, `purpose=radio/tv`, ... */
export const featureNames = (spec: TransformSpec): string[] =>
  spec.features.flatMap((f) => (f.type === 'numeric' ? [f.name] : f.categories.map((c) => `${f.name}=${c}`)));

const isAbsent = (value: unknown): boolean => value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));

/** The category string of a value: booleans become 'true' / 'false', numbers their decimal text. */
export const categoryOf = (value: Cell): string => (typeof value === 'string' ? value : String(value));

/**
 * Writes the feature vector of one row into `out` at `offset` (for building batches without copies).
 * Numeric: (x − mean) / std, missing → 0 (the mean). Categorical: one-hot in sorted category
 * order, missing or unseen → all zeros. Numeric strings are accepted for numeric features, as
 * JSON requests often carry them.
 */
export function applyTransformInto(spec: TransformSpec, row: Readonly<Record<string, unknown>>, out: { [i: number]: number }, offset = 0): void {
  let k = offset;
  for (const f of spec.features) {
    const value = row[f.name];
    if (f.type === 'numeric') {
      let x: number;
      if (isAbsent(value)) x = f.mean;
      else if (typeof value === 'number') x = value;
      else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) x = Number(value);
      else throw new TransformInputError(f.name, value, `expected a number, got ${JSON.stringify(value)}`);
      out[k++] = (x - f.mean) / f.std;
    } else {
      const at = isAbsent(value) ? -1 : f.categories.indexOf(categoryOf(value as Cell));
      for (let c = 0; c < f.categories.length; c++) out[k + c] = c === at ? 1 : 0;
      k += f.categories.length;
    }
  }
}

/** The feature vector of one row. */
export function applyTransform(spec: TransformSpec, row: Readonly<Record<string, unknown>>): number[] {
  const out = new Array<number>(transformWidth(spec));
  applyTransformInto(spec, row, out);
  return out;
}

/** The feature matrix of many rows, row-major, as float32 for a tensor. */
export function transformRows(spec: TransformSpec, rows: readonly Readonly<Record<string, unknown>>[]): Float32Array {
  const width = transformWidth(spec);
  const out = new Float32Array(rows.length * width);
  rows.forEach((row, i) => applyTransformInto(spec, row, out, i * width));
  return out;
}

interface NumericStats { n: number; mean: number; m2: number }

/**
 * Fits a transform from rows as they stream by: Welford mean and population std for numeric
 * columns (std 0 becomes 1, as in scikit-learn's StandardScaler), sorted categories for the rest.
 */
export class TransformFitter {
  private readonly numeric = new Map<string, NumericStats>();
  private readonly categories = new Map<string, Set<string>>();

  constructor(readonly label: string, readonly columns: readonly Column[]) {
    for (const c of columns) {
      if (c.type === 'number' || c.type === 'integer') this.numeric.set(c.name, { n: 0, mean: 0, m2: 0 });
      else this.categories.set(c.name, new Set());
    }
  }

  observe(row: Readonly<Record<string, Cell>>): void {
    for (const [name, s] of this.numeric) {
      const x = row[name];
      if (typeof x !== 'number' || !Number.isFinite(x)) continue;
      s.n++;
      const delta = x - s.mean;
      s.mean += delta / s.n;
      s.m2 += delta * (x - s.mean);
    }
    for (const [name, seen] of this.categories) {
      const x = row[name];
      if (x !== null && x !== undefined) seen.add(categoryOf(x));
    }
  }

  finish(): TransformSpec {
    const features = this.columns.map((c): FeatureSpec => {
      const s = this.numeric.get(c.name);
      if (s) {
        const std = s.n > 0 ? Math.sqrt(s.m2 / s.n) : 0;
        return { name: c.name, type: 'numeric', mean: s.n > 0 ? s.mean : 0, std: std > 0 ? std : 1 };
      }
      // Code-unit order, not locale order: the same on every machine.
      return { name: c.name, type: 'categorical', categories: [...this.categories.get(c.name)!].sort() };
    });
    return { kind: 'kiln.transform', version: 1, label: this.label, features };
  }
}
