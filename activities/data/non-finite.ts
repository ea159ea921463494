import type { ColumnType } from '../refs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';

/** What a reader does with a number that is not finite: fail naming it, or read it as missing. */
export type NonFiniteRule = 'refuse' | 'missing';

const SPELLED = /^[+-]?(?:inf|infinity|nan)$/i;

/**
 * Whether a raw field spells a number that is not finite: `inf`, `-Infinity`, `nan` in any case,
 * or a literal beyond the range of a double such as `1e309`. (`NaN` and `NA` alone are missing
 * values before this is asked.)
 */
export const isNonFinite = (raw: string): boolean => {
  const text = raw.trim();
  return SPELLED.test(text) || Math.abs(Number(text)) === Infinity;
};

/** Where a column first held a non-finite number, and in how many rows. */
export interface NonFiniteSeen {
  line: number;
  rows: number;
}

export const isNumericType = (type: ColumnType) => type === 'number' || type === 'integer';

/**
 * The failure for a numeric column holding non-finite numbers. The column is named only when the
 * input named it (a header is the file's content); the value is not echoed.
 */
export function nonFiniteFailure(path: string, column: { index: number; name?: string }, seen: NonFiniteSeen) {
  const where = `column ${column.index + 1}${column.name === undefined ? '' : ` ('${column.name}')`}`;
  return ApplicationFailure.nonRetryable(
    `${path}: line ${seen.line}, ${where}: the value is not a finite number (infinite, NaN, or beyond ±1.8e308), ` +
      `and ${seen.rows} row(s) of the column hold one; fix or remove them, leave them empty to mark them missing, ` +
      `or read the file with nonFinite: 'missing'`,
    FailureTypes.NonFiniteData,
    { path, line: seen.line, field: column.index + 1, rows: seen.rows },
  );
}
