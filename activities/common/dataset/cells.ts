import type { ColumnType } from '../../refs';

/** One value of a dataset: typed by its column, `null` where missing. */
export type Cell = number | boolean | string | null;

/** Tokens read as a missing value, after trimming spaces. */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', '?', 'NaN', 'NA']);

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};

export const isMissing = (raw: string): boolean => MISSING_TOKENS.has(raw.trim());

/** A value that stands for no value once read: null, undefined (an absent key) or NaN. */
export const isAbsent = (value: unknown): boolean =>
  value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));

/**
 * Reads a raw CSV field as a value of the given type; `undefined` when it is not one.
 * Strings are kept as written; numbers and booleans may have spaces around them.
 */
export function parseCell(raw: string, type: ColumnType): Cell | undefined {
  const text = raw.trim();
  if (MISSING_TOKENS.has(text)) return null;
  switch (type) {
    case 'string':
      return raw;
    case 'boolean':
      return Object.hasOwn(BOOLEANS, text) ? BOOLEANS[text]! : undefined;
    case 'integer': {
      if (!INTEGER.test(text)) return undefined;
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : undefined;
    }
    case 'number': {
      if (!NUMBER.test(text)) return undefined;
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
  }
}

const INT = 1;
const NUM = 2;
const BOOL = 4;

/** Narrows a column's type as values arrive: integer, then number, boolean, else string. */
export class TypeInference {
  private possible = INT | NUM | BOOL;
  private seen = false;

  observe(raw: string): void {
    const text = raw.trim();
    if (MISSING_TOKENS.has(text)) return;
    this.seen = true;
    if (this.possible === 0) return;
    if (this.possible & INT && parseCell(text, 'integer') === undefined) this.possible &= ~INT;
    if (this.possible & NUM && parseCell(text, 'number') === undefined) this.possible &= ~NUM;
    if (this.possible & BOOL && !Object.hasOwn(BOOLEANS, text)) this.possible &= ~BOOL;
  }

  /** True once the values seen rule out every type but text: no later value can change the type. */
  get settled(): boolean {
    return this.seen && this.possible === 0;
  }

  /** The narrowest type that holds every value seen; a column of only missing values is a string. */
  get type(): ColumnType {
    if (!this.seen) return 'string';
    if (this.possible & INT) return 'integer';
    if (this.possible & NUM) return 'number';
    if (this.possible & BOOL) return 'boolean';
    return 'string';
  }
}

/**
 * Converts a value that arrived already typed (a JSON value, a database value) to a declared
 * column type; `undefined` when it cannot be one. Strings go through `parseCell`, so a declared
 * number may arrive quoted; numbers and booleans become strings as JSON writes them.
 */
export function coerceCell(value: Cell, type: ColumnType): Cell | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return parseCell(value, type);
  switch (type) {
    case 'string':
      return String(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  }
}
