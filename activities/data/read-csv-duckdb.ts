import { isUtf8 } from 'node:buffer';
import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { z } from 'zod';
import type { ColumnType } from '../refs';
import { datasetRef } from '../refs';
import type { StepContext } from '../library';
import { MISSING_TOKENS, parseCell, TypeInference } from '../common/dataset/cells';
import type { Column } from '../common/dataset/dataset';
import { ident, literal, withDuckdb } from '../common/dataset/duckdb';
import { copyToDataset, sqlType, type WrittenStats } from '../common/dataset/parquet';
import { fileChunks } from '../common/file-chunks';
import { finishRead } from './ingest';
import { isNonFinite } from './non-finite';
import { tagColumns } from './sensitive';
import type { readCsv } from './steps';
import type { CsvHead } from './read-csv';

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

/** What one pass over the bytes learns: their fingerprint, and whether they hold what DuckDB reads and the row reader does not. */
interface ByteScan {
  sha256: string;
  size: number;
  /**
   * `1_000` and `0x1F` are numbers to DuckDB and text to the row reader; a lone CR ends a line only
   * for DuckDB; invalid UTF-8 fails the row reader, and DuckDB only where it reads the column.
   */
  ambiguous: boolean;
}

async function scanBytes(path: string): Promise<ByteScan> {
  const hash = createHash('sha256');
  let size = 0;
  let ambiguous = false;
  let previous = 0;
  // The bytes of a character the previous chunk cut off.
  let carried = Buffer.alloc(0);
  for await (const chunk of fileChunks(path)) {
    hash.update(chunk);
    size += chunk.byteLength;
    if (ambiguous) continue;
    const before = (at: number) => (at === 0 ? previous : chunk[at - 1]!);
    const digit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
    const text = carried.byteLength ? Buffer.concat([carried, chunk]) : chunk;
    const cut = text.byteLength - cutCharacter(text);
    carried = Buffer.from(text.subarray(cut));
    // A digit group separator (`1_000`) or a hex prefix (`0x1F`); `credit_amount` is neither.
    ambiguous =
      positions(chunk, 0x5f).some((at) => digit(before(at)) && (at + 1 === chunk.byteLength || digit(chunk[at + 1]))) ||
      [0x78, 0x58].some((x) => positions(chunk, x).some((at) => before(at) === 0x30)) ||
      (previous === 0x0d && chunk[0] !== 0x0a) ||
      positions(chunk, 0x0d).some((at) => at + 1 < chunk.byteLength && chunk[at + 1] !== 0x0a) ||
      !isUtf8(text.subarray(0, cut));
    previous = chunk[chunk.byteLength - 1] ?? 0;
  }
  return { sha256: hash.digest('hex'), size, ambiguous: ambiguous || carried.byteLength > 0 };
}

/** How many bytes at the end of `bytes` start a UTF-8 character that continues past them. */
function cutCharacter(bytes: Buffer) {
  for (let back = 1; back <= Math.min(3, bytes.byteLength); back++) {
    const byte = bytes[bytes.byteLength - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for the lead
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? back : 0;
  }
  return 0;
}

const positions = (chunk: Buffer, byte: number) => {
  const found: number[] = [];
  for (let at = chunk.indexOf(byte); at >= 0; at = chunk.indexOf(byte, at + 1)) found.push(at);
  return found;
};

/**
 * An integer column read as text, cast where it holds only digits, signs and spaces; anything else
 * fails the read with an error that names the column's index and the value (see `widen`).
 */
const integerOf = (c: string, index: number) =>
  // DuckDB's GLOB reads a `-` last in a class as no character: it goes first.
  `CASE WHEN ${c} GLOB '*[!-+ 0-9]*' THEN error(${literal(`${NOT_AN_INTEGER}${index} `)} || ${c}) ELSE CAST(${c} AS BIGINT) END AS ${c}`;
const NOT_AN_INTEGER = 'kiln: not an integer: ';
const NOT_AN_INTEGER_ERROR = new RegExp(`^Invalid Input Error: ${NOT_AN_INTEGER}(\\d+) ([\\s\\S]*)$`);

const csvOptions = `delim=',', quote='"', escape='"', header=true, nullstr=[${MISSING}]`;
/** How many times a read is retried with a column typed wider than its sample showed. */
const WIDENINGS = 3;

/**
 * The row reader's types for the columns of the sampled rows, and the columns the sample proves
 * text whatever the rest of the file holds; undefined where a row's width is not the header's.
 */
function sampledTypes({ header, rows }: CsvHead) {
  if (!rows?.length || rows.some((row) => row.length !== header.length)) return undefined;
  const inferred = header.map(() => new TypeInference());
  for (const row of rows) row.forEach((raw, i) => inferred[i]!.observe(raw));
  // The row reader sets numbers that are not finite aside until it knows a column's type: only the
  // column's other values can prove it text.
  const provesText = (i: number) => {
    if (!inferred[i]!.settled) return false;
    const finite = new TypeInference();
    for (const row of rows) if (!isNonFinite(row[i]!)) finite.observe(row[i]!);
    return finite.settled;
  };
  return { types: inferred.map((type) => type.type), text: header.filter((_, i) => provesText(i)) };
}

/**
 * After DuckDB refused a value in a column typed from the sample, widens the column's type as the
 * row reader would have typed it had the sample held that value: an integer column to numbers (or
 * text), a number column to text. False where the error is about anything else or the column was
 * declared: the row reader then reads the file, and names what is wrong.
 */
function widen(error: unknown, header: readonly string[], types: ColumnType[], declared: Input['columns'] = {}) {
  const message = error instanceof Error ? error.message : '';
  let index: number;
  let wider: ColumnType;
  const integer = NOT_AN_INTEGER_ERROR.exec(message);
  if (integer) {
    index = Number(integer[1]);
    const value = integer[2]!;
    // A value the row reader reads as an integer (padded with tabs, say) is no reason to widen.
    if (parseCell(value, 'integer') !== undefined) return false;
    wider = parseCell(value, 'number') === undefined ? 'string' : 'number';
  } else {
    // DuckDB names the column it could not convert as written, unquoted inside its quotes; text
    // columns are checked whole afterwards, so a misread name costs a retry, never a wrong dataset.
    index = header.findIndex(
      (name, i) => types[i] === 'number' && message.includes(`converting column "${name}". Could not convert`),
    );
    wider = 'string';
  }
  const name = header[index];
  if (name === undefined || types[index] === 'string' || declared[name] !== undefined) return false;
  types[index] = wider;
  return true;
}

/**
 * Reads the CSV file at `path` (already confined) whose head is `head`, or answers undefined when
 * the row reader must: a declared integer or boolean column, spellings DuckDB and the row reader
 * read differently, a text column the row reader would type, a number that is not finite, a
 * missing label, or anything DuckDB refuses.
 */
export async function readCsvWithDuckdb(ctx: StepContext, path: string, input: Input, head: CsvHead) {
  const { header } = head;
  const declared = input.columns ?? {};
  if (Object.values(declared).some((type) => type === 'integer' || type === 'boolean')) return undefined;
  if (input.label !== undefined && !header.includes(input.label)) return undefined;
  if (Object.keys(declared).some((name) => !header.includes(name))) return undefined;
  // DuckDB takes the first line for the header; the row reader skips blank lines before it.
  if (head.line !== 1) return undefined;
  const sampled = sampledTypes(head);
  if (!sampled) return undefined;
  const types = header.map((name, i) => declared[name] ?? sampled.types[i]!);
  // Columns the row reader reads as text whatever the rest of the file holds.
  const knownText = new Set([...sampled.text, ...Object.keys(declared).filter((name) => declared[name] === 'string')]);
  // DuckDB's booleans are not the row reader's (it reads 1 and 0, t and f as booleans).
  if (types.includes('boolean')) return undefined;
  const before = await stat(path);
  // Fingerprinting runs on this thread while DuckDB parses on its own.
  const scanning = scanBytes(path);
  scanning.catch(() => {}); // awaited below; a failure here must not go unhandled if DuckDB fails first
  const read = await withDuckdb(async (connection) => {
    for (let retry = 0; retry <= WIDENINGS; retry++) {
      try {
        return await copyCsv(
          ctx,
          connection,
          path,
          input,
          header.map((name, i) => ({ name, type: types[i]! })),
          knownText,
        );
      } catch (error) {
        if (!widen(error, header, types, declared)) return undefined;
      }
    }
    return undefined;
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

/** Writes the file as a dataset of the columns `typed`; undefined where the written data disagrees with the row reader. */
async function copyCsv(
  ctx: StepContext,
  connection: DuckDBConnection,
  path: string,
  input: Input,
  typed: Column[],
  knownText: ReadonlySet<string>,
) {
  const { columns } = tagColumns(path, typed, input.sensitive ?? {}, input.label);
  // Integer columns are read as text and cast past a guard: a column is typed from a sample, and
  // DuckDB's integer cast takes spellings that rows outside it may hold (1.5, 1e3, 0b101).
  const readAs = (type: ColumnType) => (type === 'integer' ? 'VARCHAR' : sqlType(type));
  const spec = typed.map((c) => `${literal(c.name)}: ${literal(readAs(c.type))}`).join(', ');
  const indexOf = (name: string) => typed.findIndex((c) => c.name === name);
  const select = columns
    .map((c) => (c.type === 'integer' ? integerOf(ident(c.name), indexOf(c.name)) : ident(c.name)))
    .join(', ');
  const source = `read_csv(${literal(path)}, ${csvOptions}, auto_detect=false, strict_mode=true, columns={${spec}})`;
  let verdict: { rows: number; missing: number[] } | undefined;
  const stored = await copyToDataset(
    connection,
    ctx.artifacts,
    `SELECT ${select} FROM ${source}`,
    columns,
    async (file, stats) => {
      verdict = await agreesWithRowReader(connection, file, stats, columns, input.label, knownText);
      return verdict !== undefined;
    },
  );
  if (!stored || !verdict) return undefined;
  return {
    dataset: datasetRef.parse({ kind: 'dataset', ...stored, rows: verdict.rows, columns }),
    missing: verdict.missing,
  };
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
 * typed as numbers or booleans (unless `knownText` holds it: declared text, or proven by the
 * sample). Answers the rows and missing values per column, or undefined where it disagrees.
 */
async function agreesWithRowReader(
  connection: DuckDBConnection,
  file: string,
  written: WrittenStats,
  columns: readonly Column[],
  label: string | undefined,
  knownText: ReadonlySet<string>,
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
  const textColumns = columns.filter(({ type }, i) => type === 'string' && missing[i] !== rows).map(({ name }) => name);
  // A missing token with spaces around it (` NA `): missing to the row reader, text to DuckDB.
  // One pass over every text column: small files have many, and each query costs a read.
  const spaced = textColumns.map(ident).map((c) => `(${c} NOT IN (${MISSING}) AND ${jsTrim(c)} IN (${MISSING}))`);
  if (spaced.length > 0 && (await found(spaced.join(' OR ')))) return undefined;
  for (const name of textColumns) {
    if (knownText.has(name)) continue;
    const c = ident(name);
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
