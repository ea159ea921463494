import { open } from 'node:fs/promises';
import type { ArtifactStore } from '../../artifacts/store';
import { datasetRef, type ColumnType, type DatasetRef } from '../../refs';
import type { Cell } from './cells';
import { writeParquetColumns } from './column-table';
import { duckdbConnection, withDuckdb } from './duckdb';
import {
  ColumnBuffers,
  PARQUET_MAGIC,
  parquetColumnBatches,
  parquetRows,
  readParquetHeader,
  schemaOf,
  writeParquetRows,
  type ColumnValues,
} from './parquet';

// The stored form of a dataset, chosen so that identical data hashes identically and can be
// streamed. Version 2 (written now): a Parquet file (./parquet.ts), read column-wise. Version 1
// (still read, so datasets stored before stay usable): JSON Lines, a header line with the
// schema, then one JSON array per row in column order.

export interface Column {
  name: string;
  type: ColumnType;
  /** Tagged sensitive by the reader (data.readCsv's `sensitive`): values are never shown in clear. */
  sensitive?: true;
}

export interface DatasetHeader {
  kind: 'kiln.dataset';
  version: 1 | 2;
  columns: Column[];
}

/** A row by column name. */
export type Row = Record<string, Cell>;

export interface Dataset {
  columns: Column[];
  rows: Row[];
}

/** A dataset artifact that does not hold what its reference or format promises. */
export class DatasetFormatError extends Error {
  constructor(
    readonly uri: string,
    message: string,
  ) {
    super(`dataset ${uri}: ${message}`);
    this.name = 'DatasetFormatError';
  }
}

/**
 * Writes rows (arrays in column order, or objects by column name) as a dataset artifact and
 * returns its reference. Streams: rows may come from an async source of any length.
 */
export async function writeDataset(
  artifacts: ArtifactStore,
  columns: readonly Column[],
  rows: Iterable<Row | Cell[]> | AsyncIterable<Row | Cell[]>,
): Promise<DatasetRef> {
  const schema = schemaOf(columns);
  async function* values(): AsyncGenerator<Cell[]> {
    for await (const row of rows) yield Array.isArray(row) ? row : schema.map((c) => row[c.name] ?? null);
  }
  const { stored, rows: count } = await writeParquetRows(artifacts, schema, values());
  return datasetRef.parse({ kind: 'dataset', ...stored, rows: count, columns: schema });
}

/** Splits UTF-8 bytes or text into lines at LF, decoding across chunk boundaries; fails on invalid UTF-8. */
export async function* textLines(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    let end: number;
    while ((end = rest.indexOf('\n', start)) >= 0) {
      yield rest.slice(start, end);
      start = end + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

type DatasetLocation = Pick<DatasetRef, 'uri'> & Partial<Pick<DatasetRef, 'rows'>>;

/** Whether a stored dataset is a version 2 (Parquet) file, by its first bytes. */
async function isParquet(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.toString('latin1') === PARQUET_MAGIC;
  } finally {
    await file.close();
  }
}

/** A stored dataset's format version by its first bytes: 2 for Parquet, 1 for JSON Lines. Fails if it is missing. */
export async function datasetVersion(artifacts: ArtifactStore, ref: Pick<DatasetRef, 'uri'>): Promise<1 | 2> {
  if (!(await artifacts.has(ref.uri))) throw new DatasetFormatError(ref.uri, 'is not in the artifact store');
  return (await isParquet(await artifacts.localPath(ref.uri))) ? 2 : 1;
}

/** The local file of a version 2 dataset and its header, or undefined for a version 1 one. */
export async function parquetDataset(artifacts: ArtifactStore, ref: DatasetLocation) {
  if ((await datasetVersion(artifacts, ref)) === 1) return undefined;
  const path = await artifacts.localPath(ref.uri);
  const header = await withDuckdb((connection) => readParquetHeader(connection, path)).catch(() => undefined);
  if (!header) throw new DatasetFormatError(ref.uri, 'is a Parquet file without a kiln.dataset version 2 schema');
  return { path, header };
}

/**
 * Streams a dataset: first the header, then each row as an array in column order. Fails on an
 * artifact that is missing or not a dataset, and on a row count that differs from the reference.
 */
export async function* readDatasetValues(
  artifacts: ArtifactStore,
  ref: DatasetLocation,
): AsyncGenerator<DatasetHeader | Cell[]> {
  const parquet = await parquetDataset(artifacts, ref);
  const rows = parquet ? parquetValues(parquet.path, parquet.header) : jsonLinesValues(artifacts, ref.uri);
  let header: DatasetHeader | undefined;
  let count = 0;
  for await (const item of rows) {
    if (!Array.isArray(item)) header = item;
    else count++;
    yield item;
  }
  if (!header) throw new DatasetFormatError(ref.uri, 'is empty');
  if (ref.rows !== undefined && ref.rows !== count) {
    throw new DatasetFormatError(ref.uri, `holds ${count} rows but its reference says ${ref.rows}`);
  }
}

async function* parquetValues(path: string, header: DatasetHeader): AsyncGenerator<DatasetHeader | Cell[]> {
  yield header;
  // Held while the consumer pulls rows; closed when it has them all or stops early.
  const connection = await duckdbConnection();
  try {
    yield* parquetRows(connection, path, header.columns);
  } finally {
    connection.closeSync();
  }
}

async function* jsonLinesValues(artifacts: ArtifactStore, uri: string): AsyncGenerator<DatasetHeader | Cell[]> {
  let header: DatasetHeader | undefined;
  let count = 0;
  for await (const line of textLines(artifacts.stream(uri))) {
    const value: unknown = JSON.parse(line);
    if (!header) {
      const candidate = value as Partial<DatasetHeader> | null;
      if (candidate?.kind !== 'kiln.dataset' || candidate.version !== 1 || !Array.isArray(candidate.columns)) {
        throw new DatasetFormatError(uri, 'does not start with a kiln.dataset version 1 header');
      }
      header = candidate as DatasetHeader;
      yield header;
      continue;
    }
    if (!Array.isArray(value) || value.length !== header.columns.length) {
      throw new DatasetFormatError(uri, `row ${count + 1} does not have ${header.columns.length} values`);
    }
    count++;
    yield value as Cell[];
  }
}

/**
 * A dataset's header, then its rows as arrays in its reference's column order (a column the file
 * lacks reads as null), as streamRows would key them: fresh arrays, no object per row.
 */
export async function* orderedRows(
  artifacts: ArtifactStore,
  dataset: DatasetRef,
): AsyncGenerator<DatasetHeader | Cell[]> {
  let order: (row: Cell[]) => Cell[] = (row) => row;
  for await (const item of readDatasetValues(artifacts, dataset)) {
    if (Array.isArray(item)) {
      yield order(item);
      continue;
    }
    const at = new Map(item.columns.map((c, i) => [c.name, i]));
    const positions = dataset.columns.map((c) => at.get(c.name) ?? -1);
    if (positions.some((p, i) => p !== i) || item.columns.length !== positions.length)
      order = (row) => positions.map((p) => row[p] ?? null);
    yield item;
  }
}

/** A dataset held as columns: numbers in Float64Arrays (NaN where missing), other types as cells. */
export type { ColumnValues };

export interface ColumnarDataset {
  columns: Column[];
  rows: number;
  values: Map<string, ColumnValues>;
}

/** Writes whole columns (as `loadColumns` gives them) as a dataset artifact and returns its reference. */
export async function writeColumns(
  artifacts: ArtifactStore,
  columns: readonly Column[],
  values: readonly ColumnValues[],
  rows: number,
): Promise<DatasetRef> {
  const schema = schemaOf(columns);
  const stored = await writeParquetColumns(artifacts, schema, values, rows);
  return datasetRef.parse({ kind: 'dataset', ...stored, rows, columns: schema });
}

/** A batch of rows as columns, by column name (as `loadColumns` gives them). */
export interface ColumnBatch {
  rows: number;
  values: ReadonlyMap<string, ColumnValues>;
}

/** Rows per batch: enough to make the per-batch cost vanish, small enough to stay a few MiB. */
const BATCH_ROWS = 65_536;

const pickColumns = (uri: string, columns: readonly Column[], names?: readonly string[]): Column[] =>
  names
    ? names.map((name) => {
        const column = columns.find((c) => c.name === name);
        if (!column) throw new DatasetFormatError(uri, `has no column '${name}'`);
        return column;
      })
    : [...columns];

/**
 * Streams a dataset's columns (all, or those named) in batches of rows, in row order: numbers
 * (integers too) as Float64Arrays with NaN where missing, other types as cells; what a pass over
 * ten million rows needs. Fails on a missing artifact, a column it does not have, or a row count
 * that differs from `ref`. Version 1 datasets are read row by row and batched.
 */
export async function* columnBatches(
  artifacts: ArtifactStore,
  ref: DatasetLocation & Pick<DatasetRef, 'rows'>,
  names?: readonly string[],
  batchRows = BATCH_ROWS,
): AsyncGenerator<ColumnBatch> {
  yield* batchesOf(artifacts, ref, await parquetDataset(artifacts, ref), names, batchRows);
}

/** columnBatches over a dataset whose Parquet header is read already (undefined for version 1). */
async function* batchesOf(
  artifacts: ArtifactStore,
  ref: DatasetLocation & Pick<DatasetRef, 'rows'>,
  parquet: Awaited<ReturnType<typeof parquetDataset>>,
  names: readonly string[] | undefined,
  batchRows: number,
): AsyncGenerator<ColumnBatch> {
  let columns: Column[] = [];
  const named = (values: ColumnValues[]): ColumnBatch => ({
    rows: values[0]?.length ?? 0,
    values: new Map(columns.map((c, i) => [c.name, values[i]!])),
  });
  let count = 0;
  // A dataset smaller than a batch gets buffers of its size, not of a batch's.
  batchRows = Math.max(1, Math.min(batchRows, ref.rows));
  if (parquet) {
    columns = pickColumns(ref.uri, parquet.header.columns, names);
    const connection = await duckdbConnection();
    try {
      const batches = parquetColumnBatches(connection, parquet.path, columns, batchRows);
      for (let next = await batches.next(); ; next = await batches.next()) {
        if (next.done) {
          count = next.value;
          break;
        }
        yield named(next.value);
      }
    } finally {
      connection.closeSync();
    }
  } else {
    let at: number[] = [];
    let batch: ColumnBuffers | undefined;
    for await (const item of readDatasetValues(artifacts, { uri: ref.uri })) {
      if (!Array.isArray(item)) {
        columns = pickColumns(ref.uri, item.columns, names);
        at = columns.map((c) => item.columns.indexOf(c));
        batch = new ColumnBuffers(columns, batchRows);
        continue;
      }
      const b = batch!;
      for (let i = 0; i < at.length; i++) {
        const value = item[at[i]!]!;
        const target = b.column(i);
        // As a row reader sees it: anything but a number in a numeric column is no number.
        if (target instanceof Float64Array) target[b.filled] = typeof value === 'number' ? value : Number.NaN;
        else target[b.filled] = value ?? null;
      }
      count++;
      if (++b.filled === b.size) yield named(b.take());
    }
    if (batch && batch.filled > 0) yield named(batch.take());
  }
  if (count !== ref.rows)
    throw new DatasetFormatError(ref.uri, `holds ${count} rows but its reference says ${ref.rows}`);
}

/** Reads a dataset column-wise and whole: all its columns, or only those named (in that order). */
export async function loadColumns(
  artifacts: ArtifactStore,
  ref: DatasetLocation & Pick<DatasetRef, 'rows'>,
  names?: readonly string[],
): Promise<ColumnarDataset> {
  // The header is read once: its columns name the result, and the batches read from it.
  const parquet = await parquetDataset(artifacts, ref);
  const columns = parquet
    ? pickColumns(ref.uri, parquet.header.columns, names)
    : await jsonColumnsOf(artifacts, ref, names);
  const values = new Map<string, ColumnValues>(
    columns.map((c) => [c.name, c.type === 'number' || c.type === 'integer' ? new Float64Array(0) : []]),
  );
  for await (const batch of batchesOf(artifacts, ref, parquet, names, Math.max(1, ref.rows)))
    for (const [name, column] of batch.values) values.set(name, column);
  return { columns, rows: ref.rows, values };
}

/** The named columns of a version 1 dataset (all when none are named), from its first line. */
async function jsonColumnsOf(artifacts: ArtifactStore, ref: DatasetLocation, names?: readonly string[]) {
  for await (const item of jsonLinesValues(artifacts, ref.uri))
    if (!Array.isArray(item)) return pickColumns(ref.uri, item.columns, names);
  throw new DatasetFormatError(ref.uri, 'is empty');
}

/** Streams a dataset's rows as objects keyed by column name. */
export async function* streamRows(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri'> & Partial<Pick<DatasetRef, 'rows'>>,
): AsyncGenerator<Row> {
  let names: string[] = [];
  for await (const item of readDatasetValues(artifacts, ref)) {
    if (Array.isArray(item)) yield Object.fromEntries(names.map((name, i) => [name, item[i]!]));
    else names = item.columns.map((c) => c.name);
  }
}

/** Reads a whole dataset into memory: its columns and rows keyed by column name. */
export async function loadDataset(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri'> & Partial<Pick<DatasetRef, 'rows'>>,
): Promise<Dataset> {
  let columns: Column[] = [];
  const rows: Row[] = [];
  for await (const item of readDatasetValues(artifacts, ref)) {
    if (Array.isArray(item)) rows.push(Object.fromEntries(columns.map((c, i) => [c.name, item[i]!])));
    else columns = item.columns;
  }
  return { columns, rows };
}
