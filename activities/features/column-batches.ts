import { open } from 'node:fs/promises';
import type { DuckDBVector } from '@duckdb/node-api';
import type { ArtifactStore } from '../artifacts/store';
import type { Cell } from '../common/dataset/cells';
import {
  DatasetFormatError,
  readDatasetValues,
  type Column,
  type ColumnValues,
  type DatasetHeader,
} from '../common/dataset/dataset';
import { duckdbConnection, literal } from '../common/dataset/duckdb';
import { jsColumns, PARQUET_MAGIC, readParquetHeader } from '../common/dataset/parquet';
import type { DatasetRef } from '../refs';

// Reading a dataset a batch of rows at a time, as columns: what a pass over ten million rows needs
// (loadColumns holds every column whole; streamRows makes an object per row). Only the named
// columns are read.

/** A batch of rows as columns (as `loadColumns` gives them), by column name. */
export interface ColumnBatch {
  rows: number;
  values: ReadonlyMap<string, ColumnValues>;
}

/** Rows per batch: enough to make the per-batch cost vanish, small enough to stay a few MiB. */
const BATCH_ROWS = 65_536;

const isNumeric = (c: Column) => c.type === 'number' || c.type === 'integer';

/** Column buffers of a batch being filled; each full batch is handed over and new buffers begin. */
class Batches {
  private values: ColumnValues[] = [];
  filled = 0;

  constructor(
    private readonly columns: readonly Column[],
    readonly size: number,
  ) {
    this.reset();
  }

  reset(): void {
    this.values = this.columns.map((c) =>
      isNumeric(c) ? new Float64Array(this.size) : new Array<Cell>(this.size).fill(null),
    );
    this.filled = 0;
  }

  column(i: number): ColumnValues {
    return this.values[i]!;
  }

  take(): ColumnBatch {
    const rows = this.filled;
    const values = this.values.map((v) => (rows === v.length ? v : v.slice(0, rows)));
    this.reset();
    return { rows, values: new Map(this.columns.map((c, i) => [c.name, values[i]!])) };
  }
}

/**
 * Streams the named columns of a dataset in batches of rows, in row order: numbers (integers too)
 * as Float64Arrays with NaN where missing, other types as cells. Fails, as `readDatasetValues`
 * does, on a missing artifact, a column it does not have, or a row count that differs from `ref`.
 */
export async function* columnBatches(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri' | 'rows'>,
  names: readonly string[],
  batchRows = BATCH_ROWS,
): AsyncGenerator<ColumnBatch> {
  if (!(await artifacts.has(ref.uri))) throw new DatasetFormatError(ref.uri, 'is not in the artifact store');
  const path = await artifacts.localPath(ref.uri);
  const batches = (await isParquet(path))
    ? parquetBatches(ref.uri, path, names, batchRows)
    : jsonLinesBatches(artifacts, ref, names, batchRows);
  const count = yield* batches;
  if (count !== ref.rows)
    throw new DatasetFormatError(ref.uri, `holds ${count} rows but its reference says ${ref.rows}`);
}

const pick = (uri: string, header: DatasetHeader, names: readonly string[]): Column[] =>
  names.map((name) => {
    const column = header.columns.find((c) => c.name === name);
    if (!column) throw new DatasetFormatError(uri, `has no column '${name}'`);
    return column;
  });

async function isParquet(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.toString('latin1') === PARQUET_MAGIC;
  } finally {
    await file.close();
  }
}

async function* parquetBatches(
  uri: string,
  path: string,
  names: readonly string[],
  batchRows: number,
): AsyncGenerator<ColumnBatch, number> {
  const connection = await duckdbConnection();
  try {
    const header = await readParquetHeader(connection, path).catch(() => undefined);
    if (!header) throw new DatasetFormatError(uri, 'is a Parquet file without a kiln.dataset version 2 schema');
    const columns = pick(uri, header, names);
    if (columns.length === 0) throw new Error('columnBatches: name at least one column');
    const batch = new Batches(columns, batchRows);
    const result = await connection.stream(`SELECT ${jsColumns(columns)} FROM read_parquet(${literal(path)})`);
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
            for (let r = from; r < from + n; r++) target[at + r] = (vector.getItem(r) as number | null) ?? NaN;
          } else {
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
  } finally {
    connection.closeSync();
  }
}

async function* jsonLinesBatches(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri'>,
  names: readonly string[],
  batchRows: number,
): AsyncGenerator<ColumnBatch, number> {
  let batch: Batches | undefined;
  let at: number[] = [];
  let count = 0;
  // Without `rows`: the count is checked by the caller, after the last batch.
  for await (const item of readDatasetValues(artifacts, { uri: ref.uri })) {
    if (!Array.isArray(item)) {
      const columns = pick(ref.uri, item, names);
      at = columns.map((c) => item.columns.indexOf(c));
      batch = new Batches(columns, batchRows);
      continue;
    }
    const b = batch!;
    for (let i = 0; i < at.length; i++) {
      const value = item[at[i]!]!;
      const target = b.column(i);
      // As a row reader sees it: anything but a number in a numeric column is no number.
      if (target instanceof Float64Array) target[b.filled] = typeof value === 'number' ? value : NaN;
      else target[b.filled] = value ?? null;
    }
    count++;
    if (++b.filled === b.size) yield b.take();
  }
  if (batch && batch.filled > 0) yield batch.take();
  return count;
}
