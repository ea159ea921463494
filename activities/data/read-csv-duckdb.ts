import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { z } from 'zod';
import type { ColumnType } from '../refs';
import { datasetRef } from '../refs';
import type { StepContext } from '../library';
import { MISSING_TOKENS } from '../common/dataset/cells';
import type { Column } from '../common/dataset/dataset';
import { ident, literal, withDuckdb } from '../common/dataset/duckdb';
import { columnTypeOf, copyToDataset, sqlType, type WrittenStats } from '../common/dataset/parquet';
import { finishRead } from './ingest';
import { tagColumns } from './sensitive';
import type { readCsv } from './steps';

// data.readCsv's fast path: DuckDB parses the file in parallel straight into the dataset's Parquet
// file. It is taken only where DuckDB's reading provably matches the row reader's rules (types,
// missing values, finite numbers); anywhere it might not, it declines and the row reader reads
// the file, which also names the line and column of whatever is wrong.

type Input = z.infer<typeof readCsv.input>;

const MISSING = [...MISSING_TOKENS].map(literal).join(', ');
const BOOLEAN_WORDS = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'].map(literal).join(', ');
// The row reader's integer and number spellings (cells.ts), and the non-finite ones (non-finite.ts).
const NUMERIC = String.raw`[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])`;
const LARGEST_SAFE = Number.MAX_SAFE_INTEGER;
// What JavaScript's trim() strips, as the row reader trims: DuckDB's trim() takes only spaces.
const JS_SPACE = String.raw`[\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]`;
const jsTrim = (column: string) => `regexp_replace(${column}, ${literal(`^${JS_SPACE}+|${JS_SPACE}+$`)}, '', 'g')`;

/** What one pass over the bytes learns: their fingerprint, and whether they hold spellings only DuckDB reads as numbers. */
interface ByteScan {
  sha256: string;
  size: number;
  /** `1_000` and `0x1F` are numbers to DuckDB and text to the row reader; a lone CR ends a line only for DuckDB. */
  ambiguous: boolean;
}

async function scanBytes(path: string): Promise<ByteScan> {
  const hash = createHash('sha256');
  let size = 0;
  let ambiguous = false;
  let previous = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.byteLength;
    if (ambiguous) continue;
    const before = (at: number) => (at === 0 ? previous : chunk[at - 1]!);
    const digit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
    // A digit group separator (`1_000`) or a hex prefix (`0x1F`); `credit_amount` is neither.
    ambiguous =
      positions(chunk, 0x5f).some((at) => digit(before(at)) && (at + 1 === chunk.byteLength || digit(chunk[at + 1]))) ||
      [0x78, 0x58].some((x) => positions(chunk, x).some((at) => before(at) === 0x30)) ||
      positions(chunk, 0x0d).some((at) => at + 1 < chunk.byteLength && chunk[at + 1] !== 0x0a);
    previous = chunk[chunk.byteLength - 1] ?? 0;
  }
  return { sha256: hash.digest('hex'), size, ambiguous };
}

const positions = (chunk: Buffer, byte: number) => {
  const found: number[] = [];
  for (let at = chunk.indexOf(byte); at >= 0; at = chunk.indexOf(byte, at + 1)) found.push(at);
  return found;
};

/** An integer column read as text, cast where it holds only digits, signs and spaces; anything else fails the read. */
const integerOf = (c: string) =>
  // DuckDB's GLOB reads a `-` last in a class as no character: it goes first.
  `CASE WHEN ${c} GLOB '*[!-+ 0-9]*' THEN error('not an integer') ELSE CAST(${c} AS BIGINT) END AS ${c}`;

const csvOptions = `delim=',', quote='"', escape='"', header=true, nullstr=[${MISSING}]`;

/** DuckDB's types for the file's columns from a sample, or undefined when it sees other columns than `header`. */
async function sniffTypes(connection: DuckDBConnection, path: string, header: string[]) {
  const result = await connection.runAndReadAll(
    `SELECT Columns FROM sniff_csv(${literal(path)}, ${csvOptions}, auto_type_candidates=['BIGINT', 'DOUBLE', 'VARCHAR'])`,
  );
  const sniffed = result.getRowsJS()[0]?.[0] as Array<{ name: string; type: string }> | undefined;
  if (sniffed?.length !== header.length || sniffed.some((c, i) => c.name !== header[i])) return undefined;
  return sniffed.map((c) => columnTypeOf(c.type));
}

/**
 * Reads the CSV file at `path` (already confined) whose header is `header`, or answers undefined
 * when the row reader must: a declared integer or boolean column, spellings DuckDB and the row
 * reader read differently, a text column the row reader would type, a number that is not finite,
 * a missing label, or anything DuckDB refuses.
 */
export async function readCsvWithDuckdb(ctx: StepContext, path: string, input: Input, header: string[]) {
  const declared = input.columns ?? {};
  if (Object.values(declared).some((type) => type === 'integer' || type === 'boolean')) return undefined;
  if (input.label !== undefined && !header.includes(input.label)) return undefined;
  if (Object.keys(declared).some((name) => !header.includes(name))) return undefined;
  const before = await stat(path);
  // Fingerprinting runs on this thread while DuckDB parses on its own.
  const scanning = scanBytes(path);
  scanning.catch(() => {}); // awaited below; a failure here must not go unhandled if DuckDB fails first
  const read = await withDuckdb(async (connection) => {
    const sniffed = await sniffTypes(connection, path, header).catch(() => undefined);
    if (!sniffed) return undefined;
    const types = header.map((name, i) => declared[name] ?? sniffed[i]);
    if (types.some((type) => type === undefined || type === 'boolean')) return undefined;
    const typed: Column[] = header.map((name, i) => ({ name, type: types[i]! }));
    const { columns } = tagColumns(path, typed, input.sensitive ?? {}, input.label);
    // Integer columns are read as text and cast here, past a guard: the sniffer types a column from a
    // sample, and DuckDB's integer cast takes spellings that rows outside it may hold (1.5, 1e3, 0b101).
    const readAs = (type: ColumnType) => (type === 'integer' ? 'VARCHAR' : sqlType(type));
    const spec = typed.map((c) => `${literal(c.name)}: ${literal(readAs(c.type))}`).join(', ');
    const select = columns.map((c) => (c.type === 'integer' ? integerOf(ident(c.name)) : ident(c.name))).join(', ');
    const source = `read_csv(${literal(path)}, ${csvOptions}, auto_detect=false, strict_mode=true, columns={${spec}})`;
    let verdict: { rows: number; missing: number[] } | undefined;
    const stored = await copyToDataset(
      connection,
      ctx.artifacts,
      `SELECT ${select} FROM ${source}`,
      columns,
      async (file, stats) => {
        verdict = await agreesWithRowReader(connection, file, stats, columns, input.label, declared);
        return verdict !== undefined;
      },
    ).catch(() => undefined);
    if (!stored || !verdict) return undefined;
    return {
      dataset: datasetRef.parse({ kind: 'dataset', ...stored, rows: verdict.rows, columns }),
      missing: verdict.missing,
    };
  });
  const bytes = await scanning;
  if (!read || bytes.ambiguous) return undefined;
  const after = await stat(path);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.size !== bytes.size)
    throw new Error(`${path} changed while it was being read; read it again`);
  ctx.log('read CSV with DuckDB', { path, columns: read.dataset.columns.length });
  const source = { kind: 'file' as const, uri: pathToFileURL(path).href, sha256: bytes.sha256, size: bytes.size };
  return finishRead(ctx, 'CSV', { path, source, ...read, policy: input.sensitive ?? {} });
}

const LARGEST_SAFE_BIG = BigInt(LARGEST_SAFE);
const finite = (printed: string | undefined) => printed !== undefined && Number.isFinite(Number(printed));
const safe = (printed: string | undefined) =>
  printed !== undefined &&
  /^-?\d+$/.test(printed) &&
  BigInt(printed) <= LARGEST_SAFE_BIG &&
  -BigInt(printed) <= LARGEST_SAFE_BIG;

/**
 * Checks a written file against the row reader's rules: numbers finite, integers safe, the label
 * never missing (all from what DuckDB counted while writing it), and, reading only the text
 * columns, no missing token with spaces around it and no text column the row reader would have
 * typed as numbers or booleans. Answers the rows and missing values per column, or undefined
 * where it disagrees.
 */
async function agreesWithRowReader(
  connection: DuckDBConnection,
  file: string,
  written: WrittenStats,
  columns: readonly Column[],
  label: string | undefined,
  declared: Readonly<Record<string, ColumnType>>,
) {
  const { rows } = written;
  const stats = columns.map((c) => written.columns.get(c.name));
  if (!rows || stats.some((s) => s?.null_count === undefined)) return undefined;
  const missing = stats.map((s) => Number(s!.null_count));
  const labelIndex = columns.findIndex((c) => c.name === label);
  if (labelIndex >= 0 && missing[labelIndex]! > 0) return undefined;
  for (const [i, { type }] of columns.entries()) {
    const { min, max, has_nan: nan } = stats[i]!;
    if (missing[i] === rows) continue;
    // An infinity is a column's min or max; NaN is kept out of both and counted apart.
    if (type === 'number' && (nan !== 'false' || !finite(min) || !finite(max))) return undefined;
    if (type === 'integer' && (!safe(min) || !safe(max))) return undefined;
  }
  const parquet = `read_parquet(${literal(file)})`;
  const found = async (where: string) =>
    (await connection.runAndReadAll(`SELECT 1 FROM ${parquet} WHERE ${where} LIMIT 1`)).currentRowCount > 0;
  for (const [i, { name, type }] of columns.entries()) {
    if (type !== 'string' || missing[i] === rows) continue;
    const c = ident(name);
    // A missing token with spaces around it (` NA `): missing to the row reader, text to DuckDB.
    if (await found(`${c} NOT IN (${MISSING}) AND ${jsTrim(c)} IN (${MISSING})`)) return undefined;
    if (declared[name] === 'string') continue;
    // A text column the row reader would have typed: every value a number, or every value a boolean.
    // Each query stops at the first value that is neither, which in a real text column is the first.
    for (const typed of [
      `regexp_full_match(${jsTrim(c)}, ${literal(NUMERIC)})`,
      `${jsTrim(c)} IN (${BOOLEAN_WORDS})`,
    ]) {
      if (!(await found(`${c} IS NOT NULL AND NOT (${typed})`))) return undefined;
    }
  }
  return { rows, missing };
}
