import { createHash } from 'node:crypto';
import pg from 'pg';
import { invalidData } from '../common/failures';
import { failure, scrubber } from '../common/postgres-failures';
import { checkAllowedHost, checkNotStore, checkStepUrl } from '../common/postgres-target';
import { stopIfCancelled, type StepContext } from '../library';
import type { ColumnType, DatasetRef } from '../refs';
import { orderedRows } from '../common/dataset/dataset';

// model.scoreRegistered's table output. Every row carries the run that wrote it, so runs coexist
// ('append') and an attempt retried after a crash replaces its own rows instead of doubling them.

/** Where a table is written and how: the step's `table` input. */
export interface TableOutput {
  name: string;
  url?: string | undefined;
  mode: 'append' | 'replace';
}

/** The worker's variable naming the database a table goes to when the step gives no url (as data.readPostgres reads). */
const SOURCE_DATABASE_URL = 'KILN_SOURCE_DATABASE_URL';

/** The columns Kiln adds before the dataset's own, with their SQL types. */
const KILN_COLUMNS = [
  ['kiln_run', 'text'],
  ['kiln_model', 'text'],
  ['kiln_version', 'integer'],
  ['kiln_row', 'integer'],
] as const;

const SQL_TYPES: Record<ColumnType, string> = {
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  string: 'text',
};

/** PostgreSQL's maximum parameters per statement is 65,535; batches stay well below it. */
const MAX_PARAMS = 30_000;
const MAX_BATCH = 1000;

/** A connected client, and where it points (without a user or password) for messages and lineage. */
export interface TableConnection {
  client: pg.Client;
  database: string;
  scrub: (text: string) => string;
}

/**
 * Connects to the table's database, refusing first, without connecting, a url that is not an
 * allowed host or is Kiln's store. Called before anything is scored, so an unreachable server
 * fails the step (retryably) before a file or a row is written.
 */
export async function connectTable(table: TableOutput): Promise<TableConnection> {
  if (table.url !== undefined) checkStepUrl(table.url, 'table.url');
  const url = table.url ?? process.env[SOURCE_DATABASE_URL];
  if (!url)
    throw invalidData(
      `no database to write table '${table.name}' into: give table.url, or set ${SOURCE_DATABASE_URL} in the worker's environment; ` +
        "DATABASE_URL is Kiln's own store and is never written by a step",
      { table: table.name },
    );
  const client = new pg.Client({ connectionString: url, application_name: 'kiln model.scoreRegistered' });
  const target = { host: client.host, port: client.port, database: client.database ?? '' };
  // A step's own url may name only a listed host; no target, however configured, is the store.
  if (table.url !== undefined) checkAllowedHost(target);
  checkNotStore(target);
  const host = client.host.includes('/')
    ? encodeURIComponent(client.host)
    : client.host.includes(':')
      ? `[${client.host}]`
      : client.host;
  const database = `postgres://${host}:${client.port}/${encodeURIComponent(target.database)}`;
  const scrub = scrubber(url);
  // A socket error while idle (during scoring) would otherwise crash the worker; the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw failure(error, `connecting to ${database} to write table ${table.name}`, scrub, 0);
  }
  return { client, database, scrub };
}

/** The SQL type each existing column has, or undefined for a table that does not exist. */
async function existingColumns(client: pg.Client, name: string): Promise<Map<string, string> | undefined> {
  const [schema, table] = name.includes('.') ? name.split('.') : [undefined, name];
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns
      where table_schema = coalesce($1, current_schema()) and table_name = $2`,
    [schema ?? null, table],
  );
  return rows.length === 0 ? undefined : new Map(rows.map((r) => [r.column_name, r.data_type]));
}

/**
 * Writes the scored rows into the table in one transaction: creates it if missing, checks that an
 * existing one has the columns this run writes with their types, deletes this run's earlier rows
 * (every row, in 'replace' mode), and inserts. A reader never sees part of a run. The caller ends
 * the connection.
 */
export async function writeTable(
  ctx: StepContext,
  table: TableOutput,
  connection: TableConnection,
  dataset: DatasetRef,
  model: { name: string; version: number },
) {
  const { client, database, scrub } = connection;
  for (const column of dataset.columns) {
    if (column.name.startsWith('kiln_') || Buffer.byteLength(column.name) > 63)
      throw invalidData(
        `column '${column.name}' cannot be written to table '${table.name}': names starting with kiln_ are Kiln's own, and PostgreSQL keeps at most 63 bytes of a name`,
        { column: column.name, table: table.name },
      );
  }
  const quote = (name: string) => client.escapeIdentifier(name);
  const target = table.name.split('.').map(quote).join('.');
  const columns: Array<readonly [string, string]> = [
    ...KILN_COLUMNS,
    ...dataset.columns.map((c) => [c.name, SQL_TYPES[c.type]] as const),
  ];
  const where = `writing table ${table.name} in ${database}`;
  const db = <T>(call: Promise<T>): Promise<T> =>
    call.catch((error: unknown) => {
      throw failure(error, where, scrub, 0);
    });
  await db(client.query('BEGIN'));
  await db(
    client.query(
      `create table if not exists ${target} (${columns.map(([n, t]) => `${quote(n)} ${t}${n.startsWith('kiln_') ? ' not null' : ''}`).join(', ')}, primary key (kiln_run, kiln_row))`,
    ),
  );
  // Writers of this table take turns; readers go on seeing the last committed run.
  await db(client.query(`lock table ${target} in share row exclusive mode`));
  const existing = await db(existingColumns(client, table.name));
  const mismatched = columns.filter(([n, t]) => existing?.get(n) !== t);
  if (mismatched.length > 0)
    throw invalidData(
      `table ${table.name} exists without the columns this run writes: ${mismatched.map(([n, t]) => `${n} ${t} (found ${existing?.get(n) ?? 'none'})`).join(', ')}; ` +
        'write to a new table, or alter this one',
      { table: table.name },
    );
  const run = ctx.run.workflowId;
  if (table.mode === 'replace') await db(client.query(`delete from ${target}`));
  else await db(client.query(`delete from ${target} where kiln_run = $1`, [run]));

  const hash = createHash('sha256');
  let size = 0;
  const hashLine = (value: unknown) => {
    const line = `${JSON.stringify(value)}\n`;
    hash.update(line);
    size += Buffer.byteLength(line);
  };
  hashLine(columns.map(([n]) => n));
  const perBatch = Math.min(MAX_BATCH, Math.floor(MAX_PARAMS / columns.length));
  const names = columns.map(([n]) => quote(n)).join(', ');
  let batch: unknown[][] = [];
  let rows = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const placeholders = batch
      .map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`)
      .join(', ');
    await db(client.query(`insert into ${target} (${names}) values ${placeholders}`, batch.flat()));
    batch = [];
    ctx.heartbeat({ phase: 'table', rows });
    stopIfCancelled(ctx);
  };
  for await (const row of orderedRows(ctx.artifacts, dataset)) {
    if (!Array.isArray(row)) continue;
    const values = [run, model.name, model.version, rows, ...row];
    hashLine(values);
    batch.push(values);
    rows++;
    if (batch.length === perBatch) await flush();
  }
  await flush();
  await db(client.query('COMMIT'));
  const uri = `${database}?table=${encodeURIComponent(table.name)}&run=${encodeURIComponent(run)}`;
  ctx.log('wrote table', { table: table.name, database, rows, mode: table.mode });
  return { kind: 'table' as const, uri, sha256: hash.digest('hex'), size, rows };
}
