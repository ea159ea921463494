import { randomUUID } from 'node:crypto';
import {
  BOOLEAN,
  DOUBLE,
  DuckDBDataChunk,
  VARCHAR,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBType,
} from '@duckdb/node-api';
import type { ArtifactStore, StoredArtifact } from '../../artifacts/store';
import type { Column } from './dataset';
import { ident, withDuckdb } from './duckdb';
import { copyToDataset, type ColumnValues } from './parquet';

// Whole columns into DuckDB without a row object: a table filled a chunk at a time, then copied
// out as a dataset file (alone, or beside another file's columns: extend-dataset.ts).

const CHUNK = 2048;

/**
 * A temporary DuckDB table that whole columns are appended to, a DuckDB chunk at a time (no row
 * objects): numbers from Float64Arrays (NaN stored as missing), other types from arrays of cells.
 * Integers travel as doubles (exact to 2^53); `finish` reads them back as BIGINT.
 */
export class ColumnTable {
  private appending = true;

  private constructor(
    private readonly connection: DuckDBConnection,
    readonly name: string,
    private readonly columns: readonly Column[],
    private readonly appender: DuckDBAppender,
    private readonly staged: DuckDBType[],
  ) {}

  static async create(connection: DuckDBConnection, columns: readonly Column[]): Promise<ColumnTable> {
    const name = `kiln_columns_${randomUUID().replaceAll('-', '')}`;
    const staged = columns.map((c) =>
      c.type === 'number' || c.type === 'integer' ? DOUBLE : c.type === 'boolean' ? BOOLEAN : VARCHAR,
    );
    await connection.run(
      `CREATE TABLE ${name} (${columns.map((c, i) => `${ident(c.name)} ${staged[i]!.toString()}`).join(', ')})`,
    );
    try {
      return new ColumnTable(connection, name, columns, await connection.createAppender(name), staged);
    } catch (error) {
      await connection.run(`DROP TABLE IF EXISTS ${name}`);
      throw error;
    }
  }

  /** Appends `rows` rows: one array of values per column, in the table's column order. */
  append(values: readonly ColumnValues[], rows: number): void {
    if (values.length !== this.columns.length || values.some((v) => v.length !== rows))
      throw new Error(`${this.columns.length} columns of ${rows} rows expected`);
    for (let start = 0; start < rows; start += CHUNK) {
      const end = Math.min(rows, start + CHUNK);
      const chunk = DuckDBDataChunk.create(this.staged, end - start);
      values.forEach((column, i) => {
        const slice =
          column instanceof Float64Array
            ? Array.from(column.subarray(start, end), (v) => (Number.isFinite(v) ? v : null))
            : column.slice(start, end);
        chunk.setColumnValues(i, slice);
      });
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Ends appending; answers the SELECT list that reads the columns back with their own types, from `alias`. */
  finish(alias = this.name): string {
    this.appender.flushSync();
    this.close();
    return this.columns
      .map(({ name, type }) => {
        const column = `${alias}.${ident(name)}`;
        return type === 'integer' ? `CAST(${column} AS BIGINT) AS ${ident(name)}` : `${column} AS ${ident(name)}`;
      })
      .join(', ');
  }

  private close(): void {
    if (this.appending) this.appender.closeSync();
    this.appending = false;
  }

  /** Drops the table (what was appended and not finished is discarded). */
  async drop(): Promise<void> {
    try {
      this.close();
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${this.name}`);
    }
  }
}

/** Writes whole columns as a dataset file through a ColumnTable. */
export async function writeParquetColumns(
  artifacts: ArtifactStore,
  columns: readonly Column[],
  values: readonly ColumnValues[],
  rows: number,
): Promise<StoredArtifact> {
  if (values.length !== columns.length || values.some((v) => v.length !== rows))
    throw new Error(`writeColumns: ${columns.length} columns of ${rows} rows expected`);
  return withDuckdb(async (connection) => {
    const table = await ColumnTable.create(connection, columns);
    try {
      table.append(values, rows);
      return (await copyToDataset(connection, artifacts, `SELECT ${table.finish()} FROM ${table.name}`, columns))!;
    } finally {
      await table.drop();
    }
  });
}
