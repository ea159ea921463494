import { createReadStream } from 'node:fs';
import type { ColumnType } from '../refs';
import { fileFingerprint } from '../artifacts/hashing';
import { implement, type StepContext } from '../library';
import type { z } from 'zod';
import { isMissing, parseCell, TypeInference, type Cell } from '../common/dataset/cells';
import { CsvSyntaxError, parseCsv, type CsvRecord } from './csv';
import type { Column } from '../common/dataset/dataset';
import { article, inputFile, progress, writeScanned } from './ingest';
import { invalidData } from '../common/failures';
import { isNonFinite, isNumericType, nonFiniteFailure, type NonFiniteSeen } from './non-finite';
import { readCsv } from './steps';
import { readCsvWithDuckdb } from './read-csv-duckdb';

/** The records of a file, with parse errors turned into non-retryable failures that name the place. */
async function* records(
  path: string,
  through = (s: AsyncIterable<Uint8Array>) => s,
  chunk?: number,
): AsyncGenerator<CsvRecord> {
  try {
    yield* parseCsv(through(createReadStream(path, chunk ? { highWaterMark: chunk } : {})));
  } catch (error) {
    if (error instanceof CsvSyntaxError) {
      // Columns are named by number: a header is the file's content, and errors reach Temporal's history.
      throw invalidData(
        `${path}: line ${error.line}, column ${error.field + 1}: ${error.message.replace(/^line \d+: /, '')}`,
        { path, line: error.line, field: error.field + 1 },
      );
    }
    if (error instanceof TypeError && /decode|encoded/i.test(error.message)) {
      throw invalidData(`${path} is not valid UTF-8 text; re-save it as UTF-8`, { path });
    }
    throw error;
  }
}

function checkHeader(path: string, record: CsvRecord): string[] {
  const seen = new Map<string, number>();
  record.fields.forEach((name, i) => {
    if (name.trim() === '') {
      throw invalidData(`${path}: line ${record.line}: column ${i + 1} of the header has no name; name every column`, {
        path,
        line: record.line,
        field: i + 1,
      });
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw invalidData(
        `${path}: line ${record.line}: columns ${earlier + 1} and ${i + 1} of the header have the same name; column names must be unique`,
        { path, line: record.line, field: i + 1 },
      );
    }
    seen.set(name, i);
  });
  return record.fields;
}

function checkWidth(path: string, record: CsvRecord, header: string[], headerLine: number): void {
  const n = record.fields.length;
  if (n === header.length) return;
  const where =
    n < header.length
      ? `column ${n + 1} onwards is missing`
      : `${n - header.length} extra field(s) after the last column`;
  throw invalidData(
    `${path}: line ${record.line} has ${n} fields but the header on line ${headerLine} has ${header.length}: ${where}`,
    { path, line: record.line, fields: n, expected: header.length },
  );
}

/** A file's header (the line it is on) and the rows of its first read, from which the DuckDB path types columns. */
export interface CsvHead {
  header: string[];
  line: number;
  /** Undefined where the rows could not be read: the row reader names what is wrong. */
  rows: string[][] | undefined;
}

/** The rows the head holds: a thousand, fewer where rows are wide. */
const SAMPLE_ROWS = 1000;
const SAMPLE_CELLS = 50_000;

/** The head of a file whose first record is a header; undefined for an empty file. */
export async function headOf(path: string): Promise<CsvHead | undefined> {
  let head: CsvHead | undefined;
  try {
    // 64 KiB reads: the parser splits all of a chunk into records, and only the first ones are wanted here.
    for await (const record of records(path, undefined, 1 << 16)) {
      if (!head) head = { header: checkHeader(path, record), line: record.line, rows: [] };
      else {
        const rows = head.rows!.push(record.fields);
        if (rows >= SAMPLE_ROWS || rows * head.header.length >= SAMPLE_CELLS) break;
      }
    }
  } catch (error) {
    if (!head) throw error;
    head.rows = undefined;
  }
  return head;
}

export const readCsvImpl = implement(readCsv, async (input, ctx) => {
  const path = await inputFile(input.path);
  const head = await headOf(path);
  return (head && (await readCsvWithDuckdb(ctx, path, input, head))) || readCsvRows(ctx, path, input);
});

/** The row reader: two passes in JS, the first typing and counting, the second writing; it names the line and column of what is wrong. */
export async function readCsvRows(ctx: StepContext, path: string, input: z.infer<typeof readCsv.input>) {
  const heartbeat = progress(ctx);
  const declared = input.columns ?? {};
  let header: string[] | undefined;
  let headerLine = 0;
  let rows = 0;
  let types: Array<ColumnType | TypeInference> = [];
  let missing: number[] = [];
  let labelIndex = -1;
  const nonFinite = new Map<number, NonFiniteSeen>();

  // The first pass also fingerprints the file, so lineage names the exact bytes that were read.
  const fingerprint = fileFingerprint(path);
  for await (const record of records(path, (s) => fingerprint.read(s))) {
    if (!header) {
      header = checkHeader(path, record);
      headerLine = record.line;
      for (const name of Object.keys(declared)) {
        if (!header.includes(name)) {
          throw invalidData(`${path}: declared column '${name}' is not in the header (${header.length} columns)`, {
            path,
            column: name,
          });
        }
      }
      if (input.label !== undefined) {
        labelIndex = header.indexOf(input.label);
        if (labelIndex < 0) {
          throw invalidData(`${path}: label column '${input.label}' is not in the header (${header.length} columns)`, {
            path,
            column: input.label,
          });
        }
      }
      types = header.map((name) => declared[name] ?? new TypeInference());
      missing = header.map(() => 0);
      continue;
    }
    checkWidth(path, record, header, headerLine);
    record.fields.forEach((raw, i) => {
      const type = types[i]!;
      if (isMissing(raw)) {
        missing[i]!++;
        if (i === labelIndex) {
          throw invalidData(
            `${path}: line ${record.line}, column '${input.label}': the label is missing; every row needs a label`,
            { path, line: record.line, column: input.label },
          );
        }
      } else if ((typeof type !== 'string' || isNumericType(type)) && isNonFinite(raw)) {
        // Whether it is a number that is not finite, or just text, is known once the column's type is.
        const seen = nonFinite.get(i);
        if (seen) seen.rows++;
        else nonFinite.set(i, { line: record.line, rows: 1 });
      } else if (typeof type === 'string') {
        if (parseCell(raw, type) === undefined) {
          throw invalidData(
            // The column is named because the input declared it; the value is not echoed.
            `${path}: line ${record.line}, column '${header![i]}': the value is not ${article(type)} (the column is declared ${type})`,
            { path, line: record.line, column: header![i], declared: type },
          );
        }
      } else {
        type.observe(raw);
      }
    });
    rows++;
    heartbeat({ phase: 'scan', rows });
  }

  if (!header) throw invalidData(`${path} is empty; a CSV file needs a header line and at least one row`, { path });
  if (rows === 0)
    throw invalidData(`${path} has a header on line ${headerLine} but no data rows`, { path, line: headerLine });

  const names = header;
  const columns: Column[] = names.map((name, i) => {
    const type = types[i]!;
    return { name, type: typeof type === 'string' ? type : type.type };
  });
  for (const [i, seen] of nonFinite) {
    const column = columns[i]!;
    if (isNumericType(column.type)) {
      if (input.nonFinite !== 'missing' || i === labelIndex) {
        const named = declared[column.name] !== undefined || i === labelIndex;
        throw nonFiniteFailure(path, { index: i, ...(named ? { name: column.name } : {}) }, seen);
      }
      missing[i]! += seen.rows;
    } else if (column.type === 'boolean') {
      // `inf` is no boolean: the column holds text.
      column.type = 'string';
    }
  }
  const readAsMissing = (raw: string, i: number) => isNumericType(columns[i]!.type) && isNonFinite(raw);
  // The second pass is fingerprinted too: writeScanned fails if it read other bytes than the first.
  const again = fileFingerprint(path);
  async function* values(): AsyncGenerator<Cell[]> {
    let first = true;
    for await (const record of records(path, (s) => again.read(s))) {
      if (first) {
        first = false;
        continue;
      }
      checkWidth(path, record, names, headerLine);
      yield record.fields.map((raw, i) => {
        const value = readAsMissing(raw, i) ? null : parseCell(raw, columns[i]!.type);
        if (value === undefined)
          throw new Error(`${path} changed while it was being read (line ${record.line}); read it again`);
        return value;
      });
    }
  }
  return writeScanned(
    ctx,
    heartbeat,
    'CSV',
    { path, columns, rows, missing, source: fingerprint.source, label: input.label, sensitive: input.sensitive },
    { values: values(), source: again.source },
  );
}
