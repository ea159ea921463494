import type { Cell } from '../dataset/cells';
import type { ColumnValues } from '../dataset/dataset';
import {
  applyTransformInto,
  bucketOf,
  categoryOf,
  transformWidth,
  TransformInputError,
  type CategoricalFeature,
  type FeatureSpec,
  type TransformSpec,
} from './transform';

// The fitted transform applied to columns (as `loadColumns` gives them) instead of row objects:
// a feature at a time down all rows. Every value is the one `applyTransformInto` gives for the same
// row, which stays the definition; a column of a type the fast paths do not expect (text in a
// numeric feature) goes through it cell by cell.

/** Rows as columns by name: a `loadColumns` result, or a batch of one. */
export interface FeatureColumns {
  rows: number;
  values: ReadonlyMap<string, ColumnValues>;
}

export type FeatureMatrix = Float32Array | Float64Array;

/** A value the transform rejects, at a 0-based row of the columns. */
export interface RejectedRow {
  row: number;
  error: TransformInputError;
}

/**
 * Writes the feature vectors of rows `from` to `to` (exclusive) of `data` into `out`, row-major,
 * `transformWidth(spec)` values per row, starting at out[0]. A feature whose column is not in
 * `data` reads as missing on every row, as `applyTransformInto` reads a row without the key.
 * Throws the TransformInputError `transformRows` would throw first (the earliest row).
 */
export function transformColumnsInto(...args: Parameters<typeof tryTransformColumnsInto>): void {
  const rejected = tryTransformColumnsInto(...args);
  if (rejected) throw rejected.error;
}

/**
 * As `transformColumnsInto`, but returns the value `transformRows` would reject first (the
 * earliest row, and within it the first feature) with its row, instead of throwing it.
 */
export function tryTransformColumnsInto(
  spec: TransformSpec,
  data: FeatureColumns,
  out: FeatureMatrix,
  from = 0,
  to = data.rows,
): RejectedRow | undefined {
  const width = transformWidth(spec);
  if (!(0 <= from && from <= to && to <= data.rows))
    throw new RangeError(`rows ${from} to ${to} are not within the ${data.rows} rows`);
  if (out.length < (to - from) * width)
    throw new RangeError(
      `${to - from} rows of ${width} features need ${(to - from) * width} values, not ${out.length}`,
    );
  // One-hot slots are only ever set to 1 below.
  out.fill(0, 0, (to - from) * width);
  let slot = 0;
  let failure: RejectedRow | undefined;
  for (const f of spec.features) {
    const column = data.values.get(f.name);
    const rows = { out, width, slot, from, to };
    if (f.type === 'categorical') oneHotCategories(f, column, rows);
    else if (column === undefined || column instanceof Float64Array) numbers(f, column, rows);
    else {
      const row = byRow(spec, f, column, rows);
      if (row && (!failure || row.row < failure.row)) failure = row;
    }
    slot += f.type === 'numeric' ? 1 : f.type === 'categorical' ? f.categories.length : f.boundaries.length + 1;
  }
  return failure;
}

/**
 * The feature matrix of a dataset's columns, row-major, as `transformRows` gives it for the same
 * rows as objects (float32 for a tensor), or in float64 as `applyTransform` computes it.
 * @example
 * const data = await loadColumns(artifacts, dataset, spec.features.map((f) => f.name));
 * const features = transformColumns(spec, data); // Float32Array, data.rows × transformWidth(spec)
 */
export function transformColumns(spec: TransformSpec, data: FeatureColumns): Float32Array;
export function transformColumns(
  spec: TransformSpec,
  data: FeatureColumns,
  options: { precision: 'float64'; from?: number; to?: number },
): Float64Array;
export function transformColumns(
  spec: TransformSpec,
  data: FeatureColumns,
  options: { precision?: 'float32'; from?: number; to?: number },
): Float32Array;
export function transformColumns(
  spec: TransformSpec,
  data: FeatureColumns,
  options: { precision?: 'float32' | 'float64'; from?: number; to?: number } = {},
): FeatureMatrix {
  const { from = 0, to = data.rows } = options;
  const size = Math.max(0, to - from) * transformWidth(spec);
  const out = options.precision === 'float64' ? new Float64Array(size) : new Float32Array(size);
  transformColumnsInto(spec, data, out, from, to);
  return out;
}

interface Rows {
  out: FeatureMatrix;
  width: number;
  /** The feature's first slot in a row. */
  slot: number;
  from: number;
  to: number;
}

/** A numeric or bucketized feature from a column of numbers (NaN missing). */
function numbers(f: Exclude<FeatureSpec, CategoricalFeature>, x: Float64Array | undefined, rows: Rows): void {
  const { out, width, slot, from, to } = rows;
  if (f.type === 'numeric') {
    const { mean, std } = f;
    const fill = f.impute?.value ?? mean;
    for (let r = from, k = slot; r < to; r++, k += width) {
      const v = x === undefined ? NaN : x[r]!;
      out[k] = ((v !== v ? fill : v) - mean) / std;
    }
    return;
  }
  const fill = f.impute === undefined ? -1 : bucketOf(f.boundaries, f.impute.value);
  for (let r = from, k = slot; r < to; r++, k += width) {
    const v = x === undefined ? NaN : x[r]!;
    const at = v !== v ? fill : bucketOf(f.boundaries, v);
    if (at >= 0) out[k + at] = 1;
  }
}

/** A categorical feature, one-hot, from cells or numbers (a number's category is its decimal text). */
function oneHotCategories(f: CategoricalFeature, x: ColumnValues | undefined, rows: Rows): void {
  const { out, width, slot, from, to } = rows;
  const index = new Map<string, number>();
  // The first of equal categories, as indexOf finds it.
  for (let c = f.categories.length - 1; c >= 0; c--) index.set(f.categories[c]!, c);
  const fill = f.impute === undefined ? -1 : (index.get(f.impute.value) ?? -1);
  for (let r = from, k = slot; r < to; r++, k += width) {
    const v: Cell | undefined = x === undefined ? undefined : x[r];
    // '' is missing too, as applyTransformInto reads it.
    const missing = v === null || v === undefined || v === '' || (typeof v === 'number' && v !== v);
    const at = missing ? fill : (index.get(categoryOf(v)) ?? -1);
    if (at >= 0) out[k + at] = 1;
  }
}

/** A numeric or bucketized feature from cells, through the per-row definition; the first row it rejects. */
function byRow(spec: TransformSpec, f: FeatureSpec, x: readonly Cell[], rows: Rows): RejectedRow | undefined {
  const { out, width, slot, from, to } = rows;
  const one = { ...spec, features: [f] };
  const row: Record<string, Cell> = {};
  for (let r = from, k = slot; r < to; r++, k += width) {
    row[f.name] = x[r]!;
    try {
      applyTransformInto(one, row, out, k);
    } catch (error) {
      if (error instanceof TransformInputError) return { row: r, error };
      throw error;
    }
  }
  return undefined;
}
