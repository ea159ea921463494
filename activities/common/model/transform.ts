import { isAbsent, type Cell } from '../dataset/cells';

// The fitted preprocessing, as data. `applyTransform` is the one definition of what a model
// sees: training, evaluation and serving all call it, so they cannot drift apart. The ONNX
// exporter (activities/model/onnx/build.ts) builds the same computation as graph nodes.

/** How a missing value of a feature is filled, with the value fitted on the training data. */
export type NumericImpute = { strategy: 'mean' | 'median' | 'constant'; value: number };
export type CategoricalImpute = { strategy: 'mostFrequent' | 'constant'; value: string };

export interface NumericFeature {
  name: string;
  type: 'numeric';
  mean: number;
  std: number;
  /** Absent: a missing value is the mean (standardizes to 0). */
  impute?: NumericImpute;
}

export interface CategoricalFeature {
  name: string;
  type: 'categorical';
  categories: string[];
  /** Absent: a missing value encodes as all zeros, like an unseen one. */
  impute?: CategoricalImpute;
}

/** A number one-hot encoded by bucket: bucket k holds boundaries[k − 1] ≤ x < boundaries[k]. */
export interface BucketizedFeature {
  name: string;
  type: 'bucketized';
  /** Strictly increasing; boundaries.length + 1 buckets. */
  boundaries: number[];
  /** Absent: a missing value encodes as all zeros. */
  impute?: NumericImpute;
}

export type FeatureSpec = NumericFeature | CategoricalFeature | BucketizedFeature;

export interface TransformSpec {
  kind: 'kiln.transform';
  /** 1: standardize and one-hot only. 2: a feature imputes or bucketizes, which a version-1 reader would not apply. */
  version: 1 | 2;
  label: string;
  features: FeatureSpec[];
}

/** A value a transform cannot read, such as text in a numeric feature. */
export class TransformInputError extends Error {
  constructor(
    readonly feature: string,
    readonly value: unknown,
    message: string,
  ) {
    super(`feature '${feature}': ${message}`);
    this.name = 'TransformInputError';
  }
}

/** The number of output slots of one feature. */
export const featureWidth = (f: FeatureSpec): number =>
  f.type === 'numeric' ? 1 : f.type === 'categorical' ? f.categories.length : f.boundaries.length + 1;

/** The length of the vectors a transform produces: one per numeric feature, one per category or bucket. */
export const transformWidth = (spec: TransformSpec): number =>
  spec.features.reduce((width, f) => width + featureWidth(f), 0);

const bucketNames = (f: BucketizedFeature): string[] => {
  const b = f.boundaries;
  return Array.from({ length: b.length + 1 }, (_, k) =>
    k === 0 ? `${f.name}<${b[0]}` : k === b.length ? `${f.name}>=${b[k - 1]}` : `${f.name}[${b[k - 1]},${b[k]})`,
  );
};

/** A name for each slot of the output vector: `age`, `purpose=radio/tv`, `duration[12,24)`, ... */
export const featureNames = (spec: TransformSpec): string[] =>
  spec.features.flatMap((f) =>
    f.type === 'numeric'
      ? [f.name]
      : f.type === 'categorical'
        ? f.categories.map((c) => `${f.name}=${c}`)
        : bucketNames(f),
  );

/** The category string of a value: booleans become 'true' / 'false', numbers their decimal text. */
export const categoryOf = (value: Cell): string => (typeof value === 'string' ? value : String(value));

/** A number from a cell; null when missing. Numeric strings count, as JSON requests often carry them. */
function numberOf(f: FeatureSpec, value: unknown): number | null {
  if (isAbsent(value)) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new TransformInputError(f.name, value, `expected a number, got ${JSON.stringify(value)}`);
}

/**
 * The bucket of x: how many boundaries it reaches. Compared in float32, as the ONNX graph
 * receives its inputs, so that a value within float32 rounding of a boundary lands in the same
 * bucket in both.
 */
export function bucketOf(boundaries: readonly number[], x: number): number {
  const v = Math.fround(x);
  let k = 0;
  while (k < boundaries.length && v >= Math.fround(boundaries[k]!)) k++;
  return k;
}

/**
 * Writes the feature vector of one row into `out` at `offset` (for building batches without copies).
 * Numeric: missing → the fitted impute value (default the mean), then (x − mean) / std.
 * Categorical: one-hot in sorted category order; missing (or '') → the impute category when fitted, else
 * all zeros; unseen → all zeros. Bucketized: one-hot of the bucket; missing → the impute value's
 * bucket when fitted, else all zeros.
 */
export function applyTransformInto(
  spec: TransformSpec,
  row: Readonly<Record<string, unknown>>,
  out: { [i: number]: number },
  offset = 0,
): void {
  let k = offset;
  for (const f of spec.features) {
    const value = row[f.name];
    if (f.type === 'numeric') {
      const x = numberOf(f, value) ?? f.impute?.value ?? f.mean;
      out[k++] = (x - f.mean) / f.std;
    } else if (f.type === 'categorical') {
      // '' is missing too: it is how ONNX inputs and JSON requests send a missing category.
      const category = isAbsent(value) || value === '' ? f.impute?.value : categoryOf(value as Cell);
      const at = category === undefined ? -1 : f.categories.indexOf(category);
      for (let c = 0; c < f.categories.length; c++) out[k + c] = c === at ? 1 : 0;
      k += f.categories.length;
    } else {
      const x = numberOf(f, value) ?? f.impute?.value;
      const at = x === undefined ? -1 : bucketOf(f.boundaries, x);
      for (let c = 0; c <= f.boundaries.length; c++) out[k + c] = c === at ? 1 : 0;
      k += f.boundaries.length + 1;
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

/** Strictly increasing in float32, the precision the ONNX graph compares in. */
export const increasingInFloat32 = (values: readonly number[]): boolean =>
  values.every((v, i) => Number.isFinite(v) && (i === 0 || Math.fround(v) > Math.fround(values[i - 1]!)));

/** Reads a transform artifact, checking that it is one. */
export async function loadTransform(
  artifacts: { readJson<T>(uri: string): Promise<T> },
  uri: string,
): Promise<TransformSpec> {
  const spec = await artifacts.readJson<Partial<TransformSpec>>(uri);
  if (spec.kind !== 'kiln.transform' || (spec.version !== 1 && spec.version !== 2) || !Array.isArray(spec.features)) {
    throw new Error(`artifact ${uri} is not a kiln.transform version 1 or 2`);
  }
  return spec as TransformSpec;
}
