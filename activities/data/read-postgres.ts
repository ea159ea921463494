import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ColumnType } from '../refs';
import { implement, stopIfCancelled, type SourceRef } from '../library';
import { coerceCell, type Cell } from '../common/dataset/cells';
import { writeDataset, type Column } from '../common/dataset/dataset';
import { article } from './ingest';
import { invalidData } from '../common/failures';
import { readPostgres } from './steps';
import { checkAllowedHost, checkNotStore, checkStepUrl } from '../common/postgres-target';
import { failure, scrubber } from '../common/postgres-failures';

export { DATABASE_UNAVAILABLE, INVALID_QUERY } from '../common/postgres-failures';

/** Rows per FETCH: one round trip and one heartbeat each. */
const FETCH_ROWS = 1000;

const CURSOR = 'kiln_read';

/**
 * The worker's variable naming the database to read when the step has no url. Never DATABASE_URL:
 * that is Kiln's own store (principals, tokens, audit), which a pipeline must not be able to read.
 */
export const SOURCE_DATABASE_URL = 'KILN_SOURCE_DATABASE_URL';
/** libpq's variables naming a server or database; with one set and no URL, node-postgres reads all of PG*. */
const LIBPQ_TARGET = ['PGHOST', 'PGDATABASE'];

/** Column types by PostgreSQL type OID; every other type is read as its text. */
const TYPES: ReadonlyMap<number, ColumnType> = new Map([
  [16, 'boolean'],
  [20, 'integer'],
  [21, 'integer'],
  [23, 'integer'],
  [26, 'integer'],
  [700, 'number'],
  [701, 'number'],
  [1700, 'number'],
]);

/** Where a URL points, without its password: safe for messages and logs. */
function describeDatabase(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return 'the database (its URL could not be parsed)';
  }
}

/** A URL's host part: a socket folder percent-encoded, an IPv6 address in brackets. */
const hostPart = (host: string) =>
  host.includes('/') ? encodeURIComponent(host) : host.includes(':') ? `[${host}]` : host;

/** Where a client connected from libpq's PG* variables points, as a URL without a password. */
const describeClient = (client: pg.Client) =>
  `postgres://${encodeURIComponent(client.user ?? '')}@${hostPart(client.host)}:${client.port}/${encodeURIComponent(client.database ?? '')}`;

/**
 * Fingerprints a query's result as the server sent it (column names, type OIDs, each row's text),
 * the source lineage names: a result has no file to hash, and its dataset artifact is recorded
 * under its own hash. The URI names the server, database and query (hashed with its params), never
 * the user or password.
 */
function resultFingerprint(client: pg.Client, query: string, params: unknown[]) {
  const hash = createHash('sha256');
  let size = 0;
  const add = (value: unknown) => {
    const line = `${JSON.stringify(value)}\n`;
    hash.update(line);
    size += Buffer.byteLength(line);
  };
  return {
    fields: (fields: Array<{ name: string; dataTypeID: number }>) => add(fields.map((f) => [f.name, f.dataTypeID])),
    row: add,
    source: (): SourceRef => {
      const querySha = createHash('sha256')
        .update(JSON.stringify([query, params]))
        .digest('hex');
      const uri = `postgres://${hostPart(client.host)}:${client.port}/${encodeURIComponent(client.database ?? '')}?query-sha=${querySha}`;
      return { kind: 'query', uri, sha256: hash.digest('hex'), size };
    },
  };
}

/**
 * The URL to connect to: the url input, else the worker's KILN_SOURCE_DATABASE_URL; `undefined`
 * when libpq's PG* variables name the database instead. DATABASE_URL is never read.
 */
function databaseUrl(given: string | undefined): string | undefined {
  if (given !== undefined) {
    checkStepUrl(given);
    return given;
  }
  const env = process.env[SOURCE_DATABASE_URL];
  if (env) return env;
  if (LIBPQ_TARGET.some((name) => process.env[name])) return undefined;
  throw invalidData(
    `no database to read: pass a url, or set ${SOURCE_DATABASE_URL} (or libpq's PGHOST, PGDATABASE, PGUSER...) in the worker's environment; ` +
      "DATABASE_URL is Kiln's own store and is never read by this step",
  );
}

/** A value as the database printed it, as its column type; `undefined` when it does not fit. */
function fromText(text: string, type: ColumnType): Cell | undefined {
  switch (type) {
    case 'boolean':
      return text === 't' ? true : text === 'f' ? false : undefined;
    case 'integer': {
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : undefined;
    }
    case 'number': {
      if (text === 'NaN') return null;
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
    case 'string':
      return text;
  }
}

export const readPostgresImpl = implement(readPostgres, async (input, ctx) => {
  const url = databaseUrl(input.url);
  const scrub = scrubber(url);
  const query = input.query.trim().replace(/;\s*$/, '');
  const declare = `DECLARE ${CURSOR} NO SCROLL CURSOR FOR `;
  const declared: Record<string, ColumnType> = input.columns ?? {};

  const client = new pg.Client({
    ...(url === undefined ? {} : { connectionString: url }),
    application_name: 'kiln data.readPostgres',
    // Every value arrives as the server's text; the column type decides how it is read.
    types: { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig,
  });
  const target = { host: client.host, port: client.port, database: client.database ?? '' };
  // A step's own url may name only a listed host; no target, however configured, is the store.
  if (input.url !== undefined) checkAllowedHost(target);
  checkNotStore(target);
  const database = scrub(url === undefined ? describeClient(client) : describeDatabase(url));
  const where = `reading ${database}`;
  // A socket error while idle would otherwise crash the worker; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw failure(error, `connecting to ${database}`, scrub, 0);
  }

  // Every database call turns its errors into failures here, so that errors of our own making
  // (bad data, cancellation) pass through unchanged.
  const db = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      throw failure(error, where, scrub, declare.length);
    });
  const fetch = () =>
    db(client.query<Array<string | null>>({ text: `FETCH ${FETCH_ROWS} FROM ${CURSOR}`, rowMode: 'array' }));
  try {
    await db(client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
    // Timestamps print in UTC, so the same rows hash the same whatever the server's zone.
    await db(client.query("SET LOCAL TimeZone = 'UTC'"));
    await db(client.query({ text: declare + query, values: input.params, queryMode: 'extended' } as pg.QueryConfig));
    let batch = await fetch();
    const fingerprint = resultFingerprint(client, query, input.params);
    fingerprint.fields(batch.fields);

    const names = batch.fields.map((f) => f.name);
    if (names.length === 0)
      throw invalidData('the query returns no columns; select the columns the dataset should have');
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name))
        throw invalidData(
          `column '${name}' appears twice in the query's result; give one of them another name with AS`,
          { column: name },
        );
      seen.add(name);
    }
    for (const name of Object.keys(declared)) {
      if (!seen.has(name))
        throw invalidData(`declared column '${name}' is not in the query's result; columns are ${names.join(', ')}`, {
          column: name,
        });
    }
    const labelIndex = input.label === undefined ? -1 : names.indexOf(input.label);
    if (input.label !== undefined && labelIndex < 0) {
      throw invalidData(`label column '${input.label}' not found; columns are ${names.join(', ')}`, {
        column: input.label,
      });
    }
    const native = batch.fields.map((f) => TYPES.get(f.dataTypeID) ?? 'string');
    if (batch.rows.length === 0) throw invalidData('the query returned no rows; a dataset needs at least one');
    const columns: Column[] = names.map((name, i) => ({ name, type: declared[name] ?? native[i]! }));
    const missing = names.map(() => 0);

    let rows = 0;
    async function* values(): AsyncGenerator<Cell[]> {
      for (;;) {
        for (const record of batch.rows) {
          rows++;
          fingerprint.row(record);
          yield record.map((text, i) => {
            const name = names[i]!;
            const value = text === null ? null : fromText(text, native[i]!);
            if (value === undefined) {
              const why =
                native[i] === 'integer'
                  ? 'does not fit a JavaScript number exactly; cast it to text or float8 in the query'
                  : 'is not a finite number; datasets hold finite numbers only, so filter it out or map it in the query';
              throw invalidData(`row ${rows}, column '${name}': ${text} ${why}`, { row: rows, column: name });
            }
            const cell = declared[name] === undefined ? value : coerceCell(value, declared[name]);
            if (cell === undefined) {
              throw invalidData(
                `row ${rows}, column '${name}': '${text}' is not ${article(declared[name]!)} (the column is declared ${declared[name]})`,
                {
                  row: rows,
                  column: name,
                  declared: declared[name],
                },
              );
            }
            if (cell === null) {
              missing[i]!++;
              if (i === labelIndex)
                throw invalidData(
                  `row ${rows}, column '${name}': the label is missing (NULL); every row needs a label`,
                  { row: rows, column: name },
                );
            }
            return cell;
          });
        }
        ctx.heartbeat({ phase: 'fetch', rows });
        stopIfCancelled(ctx);
        if (batch.rows.length < FETCH_ROWS) return;
        batch = await fetch();
      }
    }
    const dataset = await writeDataset(ctx.artifacts, columns, values());
    await db(client.query(`CLOSE ${CURSOR}`));
    await db(client.query('COMMIT'));
    ctx.readFrom(fingerprint.source());
    ctx.log('read PostgreSQL', { database, rows: dataset.rows, columns: columns.length, sha256: dataset.sha256 });
    return {
      dataset,
      summary: {
        rows: dataset.rows,
        columns: columns.length,
        missing: Object.fromEntries(names.flatMap((name, i) => (missing[i]! > 0 ? [[name, missing[i]!]] : []))),
      },
    };
  } finally {
    // Ending the session rolls back a transaction left open by a failure.
    await client.end().catch(() => {});
  }
});
