import type { DuckDBVector } from '@duckdb/node-api';
import type { Cell } from './cells';

// Block copies out of DuckDB's result vectors. getItem tests validity with BigInt arithmetic per
// value and decodes (and allocates) every string, most of the cost of reading a column; these read
// the vectors' buffers directly (fields of @duckdb/node-api's DuckDBDoubleVector,
// DuckDBVarCharVector and DuckDBValidity, pinned in package.json) and answer false where the fields
// are not there, so that the caller falls back to getItem.

/** A vector's validity bits as little-endian 32-bit halves; null when every row is valid, undefined when unreadable. */
function validityBits(vector: DuckDBVector<Cell>): Uint32Array | null | undefined {
  const { validity } = vector as unknown as { validity?: { data?: unknown; offset?: unknown } };
  if (validity?.offset !== 0) return undefined;
  const words = validity.data;
  if (words === null) return null;
  if (!(words instanceof BigUint64Array)) return undefined;
  return new Uint32Array(words.buffer, words.byteOffset, words.length * 2);
}

/** Whether row `r` is missing, by validity bits as validityBits reads them. */
const missingAt = (bits: Uint32Array | null, r: number) => bits !== null && !(bits[r >>> 5]! & (1 << (r & 31)));

/** Copies rows [from, from + count) of a DOUBLE vector into `target` at `to` in one block, missing values NaN. */
export function copyDoubles(vector: DuckDBVector<Cell>, from: number, count: number, target: Float64Array, to: number) {
  const { items } = vector as unknown as { items?: unknown };
  const bits = validityBits(vector);
  if (!(items instanceof Float64Array) || items.length < from + count || bits === undefined) return false;
  target.set(items.subarray(from, from + count), to);
  if (bits === null) return true;
  for (let r = from; r < from + count;) {
    const word = bits[r >>> 5]!;
    if (word === 0xffffffff) {
      r = ((r >>> 5) + 1) << 5;
      continue;
    }
    if (!(word & (1 << (r & 31)))) target[to + r - from] = Number.NaN;
    r++;
  }
  return true;
}

const decoder = new TextDecoder();
/** Distinct short strings a column keeps decoded: enough for any column of categories. */
const KEPT = 4096;

/**
 * The short strings of one column, decoded once each. DuckDB stores a string of 12 bytes or fewer
 * inline in its 16-byte slot (the length, then the bytes): the slot is the key, three levels deep
 * because 16 bytes do not fit one number. Categories repeat, so most cells are a lookup.
 */
export class ShortStrings {
  private readonly kept = new Map<number, Map<number, Map<number, string>>>();
  private size = 0;

  /** The string in the slot at byte `at` of `slots`; undefined when it is longer than 12 bytes (not inline). */
  read(slots: DataView, at: number): string | undefined {
    const length = slots.getUint32(at, true);
    if (length > 12) return undefined;
    // The length (below 16) and the first four bytes make one number below 2^36.
    const head = length + slots.getUint32(at + 4, true) * 16;
    const middle = slots.getUint32(at + 8, true);
    const tail = slots.getUint32(at + 12, true);
    const found = this.kept.get(head)?.get(middle)?.get(tail);
    if (found !== undefined) return found;
    const text = decoder.decode(new Uint8Array(slots.buffer, slots.byteOffset + at + 4, length));
    if (this.size < KEPT) {
      let byMiddle = this.kept.get(head);
      if (!byMiddle) this.kept.set(head, (byMiddle = new Map()));
      let byTail = byMiddle.get(middle);
      if (!byTail) byMiddle.set(middle, (byTail = new Map()));
      byTail.set(tail, text);
      this.size++;
    }
    return text;
  }
}

/** Copies rows [from, from + count) of a VARCHAR vector into `target` at `to`, null where missing. */
function copyStrings(
  vector: DuckDBVector<Cell>,
  from: number,
  count: number,
  target: Cell[],
  to: number,
  strings: ShortStrings,
) {
  const { dataView } = vector as unknown as { dataView?: unknown };
  const bits = validityBits(vector);
  if (!(dataView instanceof DataView) || dataView.byteLength < (from + count) * 16 || bits === undefined) return false;
  for (let r = from; r < from + count; r++) {
    target[to + r - from] = missingAt(bits, r) ? null : (strings.read(dataView, r * 16) ?? vector.getItem(r));
  }
  return true;
}

/** Copies rows [from, from + count) of an ENUM vector into `target` at `to`: each code's string, null where missing. */
function copyEnums(vector: DuckDBVector<Cell>, from: number, count: number, target: Cell[], to: number) {
  const { items, enumType } = vector as unknown as { items?: unknown; enumType?: { values?: unknown } };
  const values = enumType?.values;
  const bits = validityBits(vector);
  const codes = items instanceof Uint8Array || items instanceof Uint16Array || items instanceof Uint32Array;
  if (!codes || !Array.isArray(values) || items.length < from + count || bits === undefined) return false;
  for (let r = from; r < from + count; r++) {
    target[to + r - from] = missingAt(bits, r) ? null : (values[items[r]!] as Cell);
  }
  return true;
}

/** Copies rows of a text column's vector (an ENUM or a VARCHAR) into `target` at `to`, null where missing. */
export const copyText = (
  vector: DuckDBVector<Cell>,
  from: number,
  count: number,
  target: Cell[],
  to: number,
  strings: ShortStrings,
) => copyEnums(vector, from, count, target, to) || copyStrings(vector, from, count, target, to, strings);
