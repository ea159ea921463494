import { DriftInputError } from './errors';
import { sortFloat64 } from './sort';

/** A numeric column: one double per row, NaN or ±Infinity for a missing value. */
export type NumericColumn = Float64Array;
/** A categorical column: one category per row, null or undefined for a missing value. */
export type CategoricalColumn = readonly (string | null | undefined)[];
export type Column = NumericColumn | CategoricalColumn;
export type FeatureKind = 'numeric' | 'categorical';

/** A numeric column's finite values, ascending; `rows` counts the column's rows before missing ones were dropped. */
export interface NumericSample {
  kind: 'numeric';
  sorted: Float64Array;
  rows: number;
}

/** A categorical column's count per category; `size` is the number of non-missing values. */
export interface CategoricalSample {
  kind: 'categorical';
  counts: Map<string, number>;
  size: number;
  rows: number;
}

export type Sample = NumericSample | CategoricalSample;
export type Side = 'reference' | 'current';

export const sampleSize = (s: Sample): number => (s.kind === 'numeric' ? s.sorted.length : s.size);

/**
 * Drops missing values (as Evidently does: NaN, ±Infinity, null) and sorts or counts the rest, checking that the
 * column holds the kind of values its feature is declared with.
 */
export function prepare(feature: string, side: Side, column: unknown, kind: FeatureKind): Sample {
  const where = side === 'current' ? 'the current window' : 'the reference';
  if (kind === 'numeric') {
    if (!(column instanceof Float64Array)) {
      throw new DriftInputError(
        feature,
        `is numeric but ${where} holds ${describe(column)}; pass numeric columns as a Float64Array (NaN for missing)`,
      );
    }
    if (column.length === 0) throw new DriftInputError(feature, `${where} has no rows`);
    let finite = 0;
    for (let i = 0; i < column.length; i++) if (Number.isFinite(column[i]!)) finite++;
    if (finite === 0) {
      throw new DriftInputError(feature, `all ${column.length} values in ${where} are missing (NaN or ±Infinity)`);
    }
    let values = column;
    if (finite < column.length) {
      values = new Float64Array(finite);
      let at = 0;
      for (let i = 0; i < column.length; i++) if (Number.isFinite(column[i]!)) values[at++] = column[i]!;
    }
    return { kind, sorted: sortFloat64(values), rows: column.length };
  }
  if (!Array.isArray(column)) {
    throw new DriftInputError(
      feature,
      `is categorical but ${where} holds ${describe(column)}; pass categories as an array of strings (null for missing)`,
    );
  }
  if (column.length === 0) throw new DriftInputError(feature, `${where} has no rows`);
  // One map lookup per row: the map gives a category's slot, the count lives in a plain array.
  const slots = new Map<string, number>();
  const tally: number[] = [];
  let size = 0;
  for (let i = 0; i < column.length; i++) {
    const v: unknown = column[i];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string') {
      throw new DriftInputError(
        feature,
        `row ${i} of ${where} is ${describe(v)}, not a category string; a numeric feature goes in a Float64Array`,
      );
    }
    const slot = slots.get(v);
    if (slot === undefined) {
      slots.set(v, tally.length);
      tally.push(1);
    } else {
      tally[slot]!++;
    }
    size++;
  }
  const counts = new Map<string, number>();
  for (const [category, slot] of slots) counts.set(category, tally[slot]!);
  if (size === 0) throw new DriftInputError(feature, `all ${column.length} values in ${where} are missing (null)`);
  return { kind, counts, size, rows: column.length };
}

/** The kind a column's array type implies: a Float64Array is numeric, an array categorical. */
export function kindOf(column: unknown): FeatureKind | undefined {
  if (column instanceof Float64Array) return 'numeric';
  if (Array.isArray(column)) return 'categorical';
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing (undefined)';
  if (v instanceof Float64Array) return 'a Float64Array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return `the number ${v}`;
  return `a ${typeof v}`;
}

/** The number of distinct values in two ascending arrays taken together, counted only up to `cap`. */
export function distinctNumeric(a: Float64Array, b: Float64Array, cap = Infinity): number {
  let i = 0;
  let j = 0;
  let distinct = 0;
  while ((i < a.length || j < b.length) && distinct < cap) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    distinct++;
  }
  return distinct;
}

/** The number of distinct categories in two samples taken together. */
export function distinctCategories(a: CategoricalSample, b: CategoricalSample): number {
  let distinct = a.counts.size;
  for (const key of b.counts.keys()) if (!a.counts.has(key)) distinct++;
  return distinct;
}

/**
 * Both samples' counts over the union of their values, keys ascending (numbers numerically, strings by code unit):
 * Evidently's value_counts over `set(reference) | set(current)`.
 */
export interface AlignedCounts {
  keys: (string | number)[];
  reference: Float64Array;
  current: Float64Array;
}

export function alignCounts(a: Sample, b: Sample): AlignedCounts {
  if (a.kind === 'numeric' && b.kind === 'numeric') return alignNumeric(a.sorted, b.sorted);
  if (a.kind === 'categorical' && b.kind === 'categorical') {
    const keys = [...new Set([...a.counts.keys(), ...b.counts.keys()])].sort();
    return {
      keys,
      reference: Float64Array.from(keys, (k) => a.counts.get(k) ?? 0),
      current: Float64Array.from(keys, (k) => b.counts.get(k) ?? 0),
    };
  }
  throw new Error('alignCounts: samples of different kinds');
}

function alignNumeric(a: Float64Array, b: Float64Array): AlignedCounts {
  const keys: number[] = [];
  const ra: number[] = [];
  const rb: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    const i0 = i;
    const j0 = j;
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    keys.push(x);
    ra.push(i - i0);
    rb.push(j - j0);
  }
  return { keys, reference: Float64Array.from(ra), current: Float64Array.from(rb) };
}
