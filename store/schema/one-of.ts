import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * A check that a column holds one of the values of a TypeScript list, so the list is written
 * once; the SQL is the same text drizzle-kit wrote into the migrations (`"t"."c" in ('a', 'b')`).
 */
export const oneOf = (column: AnyPgColumn, values: readonly string[]): SQL =>
  sql`${column} in ${sql.raw(`(${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`)}`;
