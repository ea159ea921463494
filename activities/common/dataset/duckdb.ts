import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

// One in-process DuckDB per worker: it parses CSV, writes and reads the Parquet files datasets are
// stored as, and computes over columns. It holds no data of its own (an in-memory catalog); what
// does not fit in its memory limit spills below KILN_HOME.

let instance: Promise<DuckDBInstance> | undefined;

/**
 * DuckDB's memory limit: KILN_DUCKDB_MEMORY (DuckDB's syntax, e.g. `2GB`), default 2GB, so a
 * worker reading a dataset of ten million rows stays well under 4 GiB and spills the rest.
 */
export function duckdbMemory(value = process.env.KILN_DUCKDB_MEMORY): string {
  if (value === undefined || value === '') return '2GB';
  if (!/^\d+(?:\.\d+)?\s*(?:[KMGT]i?B)$/i.test(value))
    throw new Error(`KILN_DUCKDB_MEMORY must be a size such as 2GB or 512MiB, not '${value}'`);
  return value;
}

const open = async () => {
  const db = await DuckDBInstance.create(':memory:', {
    threads: String(availableParallelism()),
    memory_limit: duckdbMemory(),
    temp_directory: resolve(process.env.KILN_HOME ?? '.kiln', 'duckdb-spill'),
    // Steps name the files DuckDB reads (confined to the data roots first); it fetches nothing.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  return db;
};

/** A connection of its own to the worker's DuckDB; the caller closes it (`closeSync`). */
export const duckdbConnection = async () => (await (instance ??= open())).connect();

/** Runs `fn` on a connection of its own to the worker's DuckDB, closed after. */
export async function withDuckdb<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await duckdbConnection();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
  }
}

/** A SQL identifier, quoted: names come from users' files, so they are never spliced in bare. */
export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A SQL string literal. */
export const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
