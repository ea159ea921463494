import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import type { ArtifactStore, StoredArtifact } from '../../artifacts/store';
import type { ColumnType } from '../../refs';
import type { Cell } from './cells';
import { ident, literal, withDuckdb } from './duckdb';
import { copyDoubles, copyText, ShortStrings } from './vector-copy';
import type { Column, DatasetHeader } from './dataset';

// Datasets from version 2 on are Parquet files, written and read by DuckDB: columns stored as
// columns, compressed, readable a column or a row group at a time. The schema as Kiln types it
// (with sensitive tags) rides in the file's key-value metadata under `kiln.dataset`.

const SQL_TYPES: Record<ColumnType, string> = {
  number: 'DOUBLE',
  integer: 'BIGINT',
  boolean: 'BOOLEAN',
  string: 'VARCHAR',
};

/** DuckDB's type for each Kiln column type. */
export const sqlType = (type: ColumnType) => SQL_TYPES[type];

export const PARQUET_MAGIC = 'PAR1';
const METADATA_KEY = 'kiln.dataset';
/**
 * How dataset files are written. A column's dictionary is abandoned past DICTIONARY_SIZE_LIMIT
 * distinct values: by default DuckDB builds one for every column of measurements before finding it
 * too big, about a seventh of the writer's CPU on the ingest benchmark's file. No bloom
 * filters: Kiln reads datasets whole and never looks a value up in them.
 */
export const WRITE_OPTIONS =
  'FORMAT parquet, COMPRESSION lz4, PARQUET_VERSION v2, DICTIONARY_SIZE_LIMIT 10000, WRITE_BLOOM_FILTER false';

/** Columns as a dataset stores them: name, type and the sensitive tag, nothing a caller added. */
export const schemaOf = (columns: readonly Column[]): Column[] =>
  columns.map(({ name, type, sensitive }) => ({ name, type, ...(sensitive && { sensitive }) }));

const datasetHeader = (columns: readonly Column[]): DatasetHeader => ({
  kind: 'kiln.dataset',
  version: 2,
  columns: schemaOf(columns),
});

/**
 * What DuckDB counted while writing a dataset file: its rows, and each column's statistics by
 * column name (`null_count`, and where there are values `min`, `max`, and for doubles `has_nan`),
 * as DuckDB prints them.
 */
export interface WrittenStats {
  rows: number;
  columns: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/** The statistics a `COPY ... (RETURN_STATS true)` answers, keyed by the names of `columns`. */
function writtenStats(row: Record<string, unknown> | undefined, columns: readonly Column[]): WrittenStats {
  const entries = (map: unknown) => (Array.isArray(map) ? (map as Array<{ key: string; value: unknown }>) : []);
  // DuckDB names each column as a quoted identifier.
  const byKey = new Map(
    entries(row?.column_statistics).map(({ key, value }) => [
      key,
      Object.fromEntries(entries(value).map((stat) => [stat.key, String(stat.value)])),
    ]),
  );
  const stats = columns.flatMap((c) => {
    const found = byKey.get(ident(c.name));
    return found ? [[c.name, found] as const] : [];
  });
  return { rows: Number(row?.count ?? 0), columns: new Map(stats) };
}

/**
 * Writes the result of `select` (SQL over sources DuckDB can read) as a dataset file and stores
 * it, unless `accept` (given the written file and what DuckDB counted while writing it) refuses
 * it. The same query over the same data gives the same bytes, so identical datasets share a hash.
 */
export async function copyToDataset(
  connection: DuckDBConnection,
  artifacts: ArtifactStore,
  select: string,
  columns: readonly Column[],
  accept: (file: string, stats: WrittenStats) => Promise<boolean> = async () => true,
): Promise<StoredArtifact | undefined> {
  const tmpDir = join(artifacts.root, 'tmp');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `${randomUUID()}.parquet`);
  const header = JSON.stringify(datasetHeader(columns));
  try {
    // RETURN_STATS leaves the file's bytes as they are; it answers what the writer counted anyway.
    const result = await connection.runAndReadAll(
      `COPY (${select}) TO ${literal(tmp)} (${WRITE_OPTIONS}, KV_METADATA {${literal(METADATA_KEY)}: ${literal(header)}}, RETURN_STATS true)`,
    );
    const stats = writtenStats(result.getRowObjectsJS()[0], columns);
    return (await accept(tmp, stats)) ? await artifacts.putFile(tmp) : undefined;
  } finally {
    await rm(tmp, { force: true });
  }
}

type Append = (value: Cell) => void;

/**
 * Writes rows (arrays in column order) as a dataset file. Values must have their column's type
 * (null for missing; numbers that are not finite are stored as missing).
 */
export async function writeParquetRows(
  artifacts: ArtifactStore,
  columns: readonly Column[],
  rows: Iterable<Cell[]> | AsyncIterable<Cell[]>,
): Promise<{ stored: StoredArtifact; rows: number }> {
  return withDuckdb(async (connection) => {
    const table = `kiln_rows_${randomUUID().replaceAll('-', '')}`;
    const definition = columns.map((c) => `${ident(c.name)} ${sqlType(c.type)}`).join(', ');
    await connection.run(`CREATE TABLE ${table} (${definition})`);
    try {
      const appender = await connection.createAppender(table);
      let count = 0;
      const appenders = columns.map((column, i): Append => {
        const wrong = (value: Cell) =>
          new Error(
            `row ${count + 1}, column ${i + 1} ('${column.name}'): ${typeof value} where ${column.type} was expected`,
          );
        switch (column.type) {
          case 'number':
            return (v) => {
              if (typeof v !== 'number') throw wrong(v);
              if (Number.isFinite(v)) appender.appendDouble(v);
              else appender.appendNull();
            };
          case 'integer':
            return (v) => {
              if (typeof v !== 'number' || !Number.isInteger(v)) throw wrong(v);
              appender.appendBigInt(BigInt(v));
            };
          case 'boolean':
            return (v) => {
              if (typeof v !== 'boolean') throw wrong(v);
              appender.appendBoolean(v);
            };
          case 'string':
            return (v) => {
              if (typeof v !== 'string') throw wrong(v);
              appender.appendVarchar(v);
            };
        }
      });
      try {
        for await (const row of rows) {
          if (row.length !== columns.length) {
            throw new Error(`row ${count + 1} has ${row.length} values but the dataset has ${columns.length} columns`);
          }
          for (let i = 0; i < row.length; i++) {
            const value = row[i];
            if (value === null || value === undefined) appender.appendNull();
            else appenders[i]!(value);
          }
          appender.endRow();
          count++;
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const stored = await copyToDataset(connection, artifacts, `SELECT * FROM ${table}`, columns);
      return { stored: stored!, rows: count };
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}

/** One column held whole: numbers (integers too) in a Float64Array with NaN where missing; others as cells. */
export type ColumnValues = Float64Array | Cell[];

/** The schema stored in a dataset file, or undefined when the file has none (not Kiln's). */
export async function readParquetHeader(
  connection: DuckDBConnection,
  path: string,
): Promise<DatasetHeader | undefined> {
  const result = await connection.runAndReadAll(
    `SELECT value FROM parquet_kv_metadata(${literal(path)}) WHERE key = ${literal(METADATA_KEY)}`,
  );
  const value = result.getRowsJS()[0]?.[0];
  if (!(value instanceof Uint8Array)) return undefined;
  const header = JSON.parse(Buffer.from(value).toString('utf8')) as Partial<DatasetHeader>;
  return header.kind === 'kiln.dataset' && header.version === 2 && Array.isArray(header.columns)
    ? (header as DatasetHeader)
    : undefined;
}

/** Distinct values a text column may have and still be read as an ENUM of them. */
const ENUM_LIMIT = 4096;

/**
 * A SELECT list that reads each column as JS wants it: integers as doubles (exact up to 2^53), and
 * text columns of at most ENUM_LIMIT distinct values as ENUMs of them. DuckDB hands an ENUM over as
 * codes into one list of strings, decoded once; a VARCHAR, as a string per cell, which for strings
 * longer than 12 bytes (stored out of line) is a native call and a decode each, ten times as slow.
 */
async function jsColumns(connection: DuckDBConnection, source: string, columns: readonly Column[]) {
  const text = columns.filter((c) => c.type === 'string').map((c) => ident(c.name));
  const enums = new Map<string, string>();
  if (text.length > 0) {
    // One pass estimates every text column's distinct values, a second lists the few-valued ones'.
    const estimates = (
      await connection.runAndReadAll(
        `SELECT ${text.map((c) => `approx_count_distinct(${c})`).join(', ')} FROM ${source}`,
      )
    ).getRowsJS()[0]!;
    const few = text.filter((_, i) => Number(estimates[i]) <= ENUM_LIMIT);
    const lists = few.length
      ? (
          await connection.runAndReadAll(
            `SELECT ${few.map((c) => `list(DISTINCT ${c}) FILTER (WHERE ${c} IS NOT NULL)`).join(', ')} FROM ${source}`,
          )
        ).getRowsJS()[0]!
      : [];
    for (const [i, c] of few.entries()) {
      const values = ((lists[i] ?? []) as unknown[]).map(String);
      // SQL text cannot carry a NUL character: such a column stays text.
      if (values.length === 0 || values.length > ENUM_LIMIT || values.some((v) => v.includes('\u0000'))) continue;
      enums.set(c, `CAST(${c} AS ENUM(${values.map(literal).join(', ')})) AS ${c}`);
    }
  }
  return columns
    .map((c) => {
      const name = ident(c.name);
      return c.type === 'integer' ? `CAST(${name} AS DOUBLE) AS ${name}` : (enums.get(name) ?? name);
    })
    .join(', ');
}

/** A dataset file's columns as JS reads them (`jsColumns`), streamed. */
async function streamColumns(connection: DuckDBConnection, path: string, columns: readonly Column[]) {
  const source = `read_parquet(${literal(path)})`;
  return connection.stream(`SELECT ${await jsColumns(connection, source, columns)} FROM ${source}`);
}

/** Streams a dataset file's rows, as arrays in column order, a DuckDB chunk (2,048 rows) at a time. */
export async function* parquetRows(
  connection: DuckDBConnection,
  path: string,
  columns: readonly Column[],
): AsyncGenerator<Cell[]> {
  const strings = columns.map(() => new ShortStrings());
  const result = await streamColumns(connection, path, columns);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    // Text columns are copied out whole first (copyText).
    const vectors = columns.map((column, i) => {
      const vector = chunk.getColumnVector(i) as DuckDBVector<Cell>;
      if (column.type !== 'string') return vector;
      const text = new Array<Cell>(chunk.rowCount);
      return copyText(vector, 0, chunk.rowCount, text, 0, strings[i]!) ? { getItem: (r: number) => text[r]! } : vector;
    });
    for (let r = 0; r < chunk.rowCount; r++) {
      const row = new Array<Cell>(vectors.length);
      for (let i = 0; i < vectors.length; i++) row[i] = vectors[i]!.getItem(r);
      yield row;
    }
  }
}

/**
 * Buffers for a batch of rows, column by column; `take` hands a batch over, and the next write
 * starts new ones (so the last batch of a stream leaves none allocated behind it).
 */
export class ColumnBuffers {
  private values: ColumnValues[] | undefined;
  filled = 0;

  constructor(
    private readonly columns: readonly Column[],
    readonly size: number,
  ) {}

  column(i: number): ColumnValues {
    return (this.values ??= this.fresh())[i]!;
  }

  take(): ColumnValues[] {
    const rows = this.filled;
    const values = (this.values ?? this.fresh()).map((v) => (rows === v.length ? v : v.slice(0, rows)));
    this.values = undefined;
    this.filled = 0;
    return values;
  }

  private fresh(): ColumnValues[] {
    return this.columns.map((c) =>
      c.type === 'number' || c.type === 'integer' ? new Float64Array(this.size) : new Array<Cell>(this.size).fill(null),
    );
  }
}

/**
 * Streams the given columns of a dataset file in batches of `size` rows (the last may be
 * shorter), in row order; answers the number of rows read.
 */
export async function* parquetColumnBatches(
  connection: DuckDBConnection,
  path: string,
  columns: readonly Column[],
  size: number,
): AsyncGenerator<ColumnValues[], number> {
  const batch = new ColumnBuffers(columns, size);
  const strings = columns.map(() => new ShortStrings());
  const result = await streamColumns(connection, path, columns);
  let count = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const vectors = columns.map((_, i) => chunk.getColumnVector(i) as DuckDBVector<Cell>);
    for (let from = 0; from < chunk.rowCount;) {
      const n = Math.min(chunk.rowCount - from, batch.size - batch.filled);
      for (let i = 0; i < vectors.length; i++) {
        const vector = vectors[i]!;
        const target = batch.column(i);
        const at = batch.filled - from;
        if (target instanceof Float64Array) {
          if (!copyDoubles(vector, from, n, target, batch.filled))
            for (let r = from; r < from + n; r++) target[at + r] = (vector.getItem(r) as number | null) ?? Number.NaN;
        } else if (columns[i]!.type !== 'string' || !copyText(vector, from, n, target, batch.filled, strings[i]!)) {
          for (let r = from; r < from + n; r++) target[at + r] = vector.getItem(r);
        }
      }
      batch.filled += n;
      from += n;
      count += n;
      if (batch.filled === batch.size) yield batch.take();
    }
  }
  if (batch.filled > 0) yield batch.take();
  return count;
}
