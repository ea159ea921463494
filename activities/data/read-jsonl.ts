import { createReadStream } from 'node:fs';
import type { ColumnType } from '../refs';
import { fileFingerprint } from '../artifacts/hashing';
import { implement } from '../library';
import { coerceCell, isMissing, type Cell } from '../common/dataset/cells';
import { textLines, type Column } from '../common/dataset/dataset';
import { article, inputFile, progress, writeScanned } from './ingest';
import { invalidData } from '../common/failures';
import { readJsonl } from './steps';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One non-blank line of the file, parsed: the object and its 1-based line number. */
interface JsonlRecord {
  value: Record<string, Json>;
  line: number;
}

const describeJson = (value: Json): string =>
  value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;

/** The objects of a file, one per non-blank line; a line that is not a JSON object fails, naming it. */
async function* records(path: string, through = (s: AsyncIterable<Uint8Array>) => s): AsyncGenerator<JsonlRecord> {
  let line = 0;
  try {
    for await (const raw of textLines(through(createReadStream(path)))) {
      line++;
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).replace(/\r$/, '');
      if (text.trim() === '') continue;
      let value: Json;
      try {
        value = JSON.parse(text) as Json;
      } catch {
        // JSON.parse's message quotes the text it failed on: the file's content stays out of errors.
        throw invalidData(`${path}: line ${line} is not valid JSON; each line must be one JSON object`, { path, line });
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw invalidData(
          `${path}: line ${line} is ${describeJson(value)}, not a JSON object; each line must be one object such as {"age": 42}`,
          { path, line },
        );
      }
      yield { value, line };
    }
  } catch (error) {
    if (error instanceof TypeError && /decode|encoded/i.test(error.message)) {
      throw invalidData(`${path} is not valid UTF-8 text (after line ${line}); re-save it as UTF-8`, { path, line });
    }
    throw error;
  }
}

/** Missing: an absent key, null, or a string that is one of the missing tokens of cells.ts. */
const missing = (value: Json | undefined): boolean =>
  value === undefined || value === null || (typeof value === 'string' && isMissing(value));

const enum Kind {
  Integer = 1,
  Number = 2,
  Boolean = 4,
  String = 8,
  Nested = 16,
}

const kindOf = (value: Json): Kind =>
  typeof value === 'number'
    ? Number.isSafeInteger(value)
      ? Kind.Integer
      : Kind.Number
    : typeof value === 'boolean'
      ? Kind.Boolean
      : typeof value === 'string'
        ? Kind.String
        : Kind.Nested;

/** JSON values carry their type: integers widen to number; any other mix, or a nested value, is read as strings. */
function inferred(kinds: number): ColumnType {
  if (kinds === 0) return 'string';
  if ((kinds & ~(Kind.Integer | Kind.Number)) === 0) return kinds & Kind.Number ? 'number' : 'integer';
  if (kinds === Kind.Boolean) return 'boolean';
  return 'string';
}

/** A value as the column's type, nested values as their JSON text; `undefined` when it does not fit. */
const toCell = (value: Json, type: ColumnType): Cell | undefined =>
  typeof value === 'object' && value !== null
    ? type === 'string'
      ? JSON.stringify(value)
      : undefined
    : coerceCell(value, type);

export const readJsonlImpl = implement(readJsonl, async (input, ctx) => {
  const path = await inputFile(input.path);
  const heartbeat = progress(ctx);
  const declared: Record<string, ColumnType> = input.columns ?? {};
  // Columns in the order their keys first appear; a line without a key has a missing value there.
  const kinds = new Map<string, number>();
  const missingCount = new Map<string, number>();
  let labelMissingLine: number | undefined;
  let rows = 0;
  // The first pass also fingerprints the file, so lineage names the exact bytes that were read.
  const fingerprint = fileFingerprint(path);
  for await (const { value, line } of records(path, (s) => fingerprint.read(s))) {
    for (const [name, cell] of Object.entries(value)) {
      if (!kinds.has(name)) {
        kinds.set(name, 0);
        // Earlier lines lacked this key: their values are missing too.
        if (rows > 0) missingCount.set(name, rows);
      }
      if (missing(cell)) continue;
      const type = declared[name];
      if (type !== undefined) {
        if (toCell(cell, type) === undefined) {
          throw invalidData(
            `${path}: line ${line}, column '${name}': the value is not ${article(type)} (the column is declared ${type})`,
            { path, line, column: name, declared: type },
          );
        }
      } else if (typeof cell === 'number' && !Number.isFinite(cell)) {
        throw invalidData(`${path}: line ${line}: a number is too large for a double`, { path, line });
      } else {
        kinds.set(name, kinds.get(name)! | kindOf(cell));
      }
    }
    for (const name of kinds.keys()) {
      if (missing(value[name])) missingCount.set(name, (missingCount.get(name) ?? 0) + 1);
    }
    if (input.label !== undefined && labelMissingLine === undefined && missing(value[input.label]))
      labelMissingLine = line;
    rows++;
    heartbeat({ phase: 'scan', rows });
  }

  if (rows === 0)
    throw invalidData(`${path} is empty; a JSON Lines file needs at least one line holding an object`, { path });
  const names = [...kinds.keys()];
  for (const name of Object.keys(declared)) {
    if (!kinds.has(name))
      throw invalidData(`${path}: declared column '${name}' not found in any line (${names.length} keys found)`, {
        path,
        column: name,
      });
  }
  if (input.label !== undefined) {
    if (!kinds.has(input.label))
      throw invalidData(`${path}: label column '${input.label}' not found in any line (${names.length} keys found)`, {
        path,
        column: input.label,
      });
    if (labelMissingLine !== undefined) {
      throw invalidData(
        `${path}: line ${labelMissingLine}, column '${input.label}': the label is missing; every row needs a label`,
        {
          path,
          line: labelMissingLine,
          column: input.label,
        },
      );
    }
  }
  const columns: Column[] = names.map((name) => ({ name, type: declared[name] ?? inferred(kinds.get(name)!) }));

  // The second pass is fingerprinted too: writeScanned fails if it read other bytes than the first.
  const again = fileFingerprint(path);
  async function* values(): AsyncGenerator<Cell[]> {
    for await (const { value, line } of records(path, (s) => again.read(s))) {
      yield columns.map(({ name, type }) => {
        const raw = value[name];
        if (missing(raw)) return null;
        const cell = toCell(raw!, type);
        if (cell === undefined)
          throw new Error(`${path} changed while it was being read (line ${line}); read it again`);
        return cell;
      });
    }
  }
  const missingPerColumn = names.map((name) => missingCount.get(name) ?? 0);
  return writeScanned(
    ctx,
    heartbeat,
    'JSON Lines',
    {
      path,
      columns,
      rows,
      missing: missingPerColumn,
      source: fingerprint.source,
      label: input.label,
      sensitive: input.sensitive,
    },
    { values: values(), source: again.source },
  );
});
