import { randomUUID } from 'node:crypto';
import { DuckDBDataChunk, INTEGER, type DuckDBConnection } from '@duckdb/node-api';
import type { ArtifactStore } from '../artifacts/store';
import { datasetRef, type DatasetRef } from '../refs';
import {
  DatasetFormatError,
  datasetVersion,
  readDatasetValues,
  type Column,
  type DatasetHeader,
} from '../common/dataset/dataset';
import { ident, literal, withDuckdb } from '../common/dataset/duckdb';
import { copyToDataset, readParquetHeader } from '../common/dataset/parquet';

// Steps that keep some rows of a dataset and drop the others do it in DuckDB, over the stored
// Parquet file: only the row numbers to keep cross from JavaScript, and no row is ever an object.

/** The local Parquet file of a version 2 dataset and its stored schema; undefined for version 1 (JSON Lines). */
export async function parquetFileOf(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri' | 'rows'>,
): Promise<{ path: string; header: DatasetHeader } | undefined> {
  const path = await artifacts.localPath(ref.uri);
  if ((await datasetVersion(artifacts, ref)) === 1) return undefined;
  const { header, rows } = await withDuckdb(async (connection) => ({
    header: await readParquetHeader(connection, path),
    rows: Number(
      (await connection.runAndReadAll(`SELECT count(*) FROM read_parquet(${literal(path)})`)).getRowsJS()[0]![0],
    ),
  }));
  if (header && rows !== ref.rows)
    throw new DatasetFormatError(ref.uri, `holds ${rows} rows but its reference says ${ref.rows}`);
  // A column of that name would clash with the row position DuckDB adds; such files take the row path.
  if (!header || header.columns.some((c) => c.name === ROW)) return undefined;
  return { path, header };
}

/** The columns a dataset file stores (with their sensitive tags), read from its header alone. */
export async function storedColumns(artifacts: ArtifactStore, ref: Pick<DatasetRef, 'uri'>): Promise<Column[]> {
  const items = readDatasetValues(artifacts, ref);
  try {
    const first = await items.next();
    return (first.value as DatasetHeader).columns;
  } finally {
    await items.return(undefined);
  }
}

const ROW = 'file_row_number';
const CHUNK = 2048;

/** Appends row numbers (0-based, ascending) to a new temporary table of one INTEGER column `row`. */
async function rowTable(connection: DuckDBConnection, rows: Uint32Array): Promise<string> {
  const table = `kiln_rows_${randomUUID().replaceAll('-', '')}`;
  await connection.run(`CREATE TEMP TABLE ${table} ("row" INTEGER)`);
  const appender = await connection.createAppender(table);
  try {
    for (let start = 0; start < rows.length; start += CHUNK) {
      const end = Math.min(rows.length, start + CHUNK);
      const chunk = DuckDBDataChunk.create([INTEGER], end - start);
      chunk.setColumnValues(0, Array.from(rows.subarray(start, end)));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return table;
}

/**
 * Writes the rows of a dataset file that are (`keep: true`) or are not (`keep: false`) among
 * `rows`, in their order in the file, as a new dataset. The bytes are those `writeDataset` writes
 * for the same rows, so a dataset's hash does not depend on which path wrote it.
 */
export async function writeRowsOf(
  artifacts: ArtifactStore,
  file: { path: string; header: DatasetHeader },
  rows: Uint32Array,
  parts: ReadonlyArray<{ keep: boolean; count: number }>,
): Promise<DatasetRef[]> {
  const columns: Column[] = file.header.columns;
  return withDuckdb(async (connection) => {
    const table = await rowTable(connection, rows);
    try {
      const refs: DatasetRef[] = [];
      for (const { keep, count } of parts) {
        const select =
          `SELECT ${columns.map((c) => `t.${ident(c.name)}`).join(', ')} ` +
          `FROM read_parquet(${literal(file.path)}, file_row_number = true) t ` +
          `${keep ? 'SEMI' : 'ANTI'} JOIN ${table} m ON t.${ROW} = m."row" ORDER BY t.${ROW}`;
        const stored = await copyToDataset(connection, artifacts, select, columns);
        refs.push(datasetRef.parse({ kind: 'dataset', ...stored, rows: count, columns }));
      }
      return refs;
    } finally {
      await connection.run(`DROP TABLE IF EXISTS ${table}`);
    }
  });
}
