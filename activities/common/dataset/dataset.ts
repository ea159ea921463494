import type { ArtifactStore } from '../../artifacts/store';
import { datasetRef, type ColumnType, type DatasetRef } from '../../refs';
import type { Cell } from './cells';

// The stored form of a dataset, chosen so that identical data hashes identically and can be
// streamed: JSON Lines, a header line with the schema, then one JSON array per row in column
// order. Only types cross here (no Node modules), so pure steps can read datasets too.

export interface Column {
  name: string;
  type: ColumnType;
  /** Tagged sensitive by the reader (data.readCsv's `sensitive`): values are never shown in clear. */
  sensitive?: true;
}

export interface DatasetHeader {
  kind: 'kiln.dataset';
  version: 1;
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

const FLUSH_CHARS = 1 << 16;

const canonicalCell = (value: Cell | undefined): Cell =>
  value === undefined || (typeof value === 'number' && !Number.isFinite(value)) ? null : value;

/**
 * Writes rows (arrays in column order, or objects by column name) as a dataset artifact and
 * returns its reference. Streams: rows may come from an async source of any length.
 */
export async function writeDataset(
  artifacts: ArtifactStore,
  columns: readonly Column[],
  rows: Iterable<Row | Cell[]> | AsyncIterable<Row | Cell[]>,
): Promise<DatasetRef> {
  const schema = columns.map(({ name, type, sensitive }) => ({ name, type, ...(sensitive && { sensitive }) }));
  const header: DatasetHeader = { kind: 'kiln.dataset', version: 1, columns: schema };
  let count = 0;
  async function* lines(): AsyncGenerator<string> {
    let buffer = `${JSON.stringify(header)}\n`;
    for await (const row of rows) {
      const values = Array.isArray(row) ? row : schema.map((c) => row[c.name]);
      if (values.length !== schema.length) {
        throw new Error(`row ${count + 1} has ${values.length} values but the dataset has ${schema.length} columns`);
      }
      buffer += `${JSON.stringify(values.map(canonicalCell))}\n`;
      count++;
      if (buffer.length >= FLUSH_CHARS) {
        yield buffer;
        buffer = '';
      }
    }
    yield buffer;
  }
  const stored = await artifacts.putStream(lines());
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

/**
 * Streams a dataset: first the header, then each row as an array in column order. Fails on an
 * artifact that is missing or not a dataset, and on a row count that differs from the reference.
 */
export async function* readDatasetValues(
  artifacts: ArtifactStore,
  ref: Pick<DatasetRef, 'uri'> & Partial<Pick<DatasetRef, 'rows'>>,
): AsyncGenerator<DatasetHeader | Cell[]> {
  if (!(await artifacts.has(ref.uri))) throw new DatasetFormatError(ref.uri, 'is not in the artifact store');
  let header: DatasetHeader | undefined;
  let count = 0;
  for await (const line of textLines(artifacts.stream(ref.uri))) {
    const value: unknown = JSON.parse(line);
    if (!header) {
      const candidate = value as Partial<DatasetHeader> | null;
      if (candidate?.kind !== 'kiln.dataset' || candidate.version !== 1 || !Array.isArray(candidate.columns)) {
        throw new DatasetFormatError(ref.uri, 'does not start with a kiln.dataset version 1 header');
      }
      header = candidate as DatasetHeader;
      yield header;
      continue;
    }
    if (!Array.isArray(value) || value.length !== header.columns.length) {
      throw new DatasetFormatError(ref.uri, `row ${count + 1} does not have ${header.columns.length} values`);
    }
    count++;
    yield value as Cell[];
  }
  if (!header) throw new DatasetFormatError(ref.uri, 'is empty');
  if (ref.rows !== undefined && ref.rows !== count) {
    throw new DatasetFormatError(ref.uri, `holds ${count} rows but its reference says ${ref.rows}`);
  }
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
