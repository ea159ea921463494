import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type * as schema from './schema';

export type Schema = typeof schema;

/** The drizzle database or a transaction on it: PGlite and node-postgres alike. */
export type Executor = PgDatabase<PgQueryResultHKT, Schema>;

/** Runs raw SQL and returns its rows; both drivers answer `{ rows }`. */
export async function rows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** A Postgres error code (`23505` unique violation, `23503` foreign key) from either driver. */
export function pgErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const toIso = (value: Date | string | null | undefined): string | null =>
  value == null ? null : (value instanceof Date ? value : new Date(value)).toISOString();

/** Runs a read-only statement by name; on PostgreSQL as a prepared statement, so a hot query is planned once per connection. */
export type ReadRunner = <T>(name: string, query: SQL) => Promise<T[]>;

export const plainReader =
  (db: Executor): ReadRunner =>
  (_name, query) =>
    rows(db, query);

export function preparedReader(pool: pg.Pool): ReadRunner {
  const dialect = new PgDialect();
  const names = new Map<string, string>();
  return async <T>(name: string, query: SQL) => {
    const { sql: text, params } = dialect.sqlToQuery(query);
    let statement = names.get(text);
    if (!statement) {
      statement = `kiln_${name}_${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
      names.set(text, statement);
    }
    return (await pool.query({ name: statement, text, values: params as unknown[] })).rows as T[];
  };
}

/**
 * Runs one statement whose values are written into its text (sqlLiteral) by the simple query
 * protocol: one message to the server, where a statement with parameters takes PGlite six
 * (parse, describe, bind, describe, execute, sync), each a call into its WebAssembly build.
 */
export type LiteralRunner = <T>(text: string) => Promise<T[]>;

export const pgliteLiterals =
  (client: PGlite): LiteralRunner =>
  async <T>(text: string) =>
    ((await client.exec(text)).at(-1)?.rows ?? []) as T[];

export const poolLiterals =
  (pool: pg.Pool): LiteralRunner =>
  async <T>(text: string) =>
    (await pool.query(text)).rows as T[];

/**
 * A value as SQL literal text, or undefined for one that cannot be written so: text holding NUL
 * (which PostgreSQL text cannot hold either) and numbers that are not safe integers. Text is an
 * escape string (E'...'), quotes and backslashes doubled, which reads the same whatever
 * standard_conforming_strings says.
 */
export function sqlLiteral(value: string | number | null): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (value.includes('\u0000')) return undefined;
  return `E'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}
