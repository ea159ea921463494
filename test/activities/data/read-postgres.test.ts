import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { startPostgres } from '../../../store/postgres-server';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import {
  DATABASE_UNAVAILABLE,
  INVALID_QUERY,
  readPostgresImpl,
  SOURCE_DATABASE_URL,
} from '../../../activities/data/read-postgres';
import { readPostgres } from '../../../activities/data/steps';
import { testContext } from '../../support/step-context';

// Against a real PostgreSQL: KILN_TEST_DATABASE_URL when set (as `npm test` does), else a throwaway server.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let url: string;
let stop: () => Promise<void> = async () => {};
let admin: pg.Client;
const logs: string[] = [];
const schema = `kiln_read_${randomBytes(4).toString('hex')}`;
// The worker environment the step reads its database from; saved and restored around the tests.
const ENV = [SOURCE_DATABASE_URL, 'DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD'];
const savedEnv = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
function setEnv(values: Record<string, string | undefined>): void {
  for (const name of ENV) {
    const value = values[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

before(async () => {
  ctx = await testContext();
  ctx.log = (message, fields) => {
    logs.push(`${message} ${JSON.stringify(fields)}`);
  };
  const given = process.env.KILN_TEST_DATABASE_URL;
  if (given) {
    url = given;
  } else {
    const server = await startPostgres();
    url = server.url;
    stop = server.stop;
  }
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  setEnv({ [SOURCE_DATABASE_URL]: url });
});

after(async () => {
  setEnv(savedEnv);
  await admin?.query(`drop schema if exists ${schema} cascade`);
  await admin?.end();
  await stop();
  await ctx.dispose();
});

/** Runs the step with input as a pipeline would give it, through the input schema. */
const read = (input: Record<string, unknown>) => readPostgresImpl.run(readPostgres.input.parse(input), ctx);

async function rejectsWith(
  promise: Promise<unknown>,
  type: string,
  message: RegExp,
  nonRetryable = true,
): Promise<ApplicationFailure> {
  let failure: ApplicationFailure | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, nonRetryable);
    assert.match(error.message, message);
    failure = error;
    return true;
  });
  return failure!;
}

/** The URL with a password the server does not check (trust authentication), to see where it leaks. */
function withPassword(password: string, port?: number): string {
  const u = new URL(url);
  u.password = password;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

describe('data.readPostgres', () => {
  it('reads the German credit rows loaded into a table into the same dataset, hash included, as readCsv', async () => {
    const csv = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const { columns, rows } = await loadDataset(ctx.artifacts, csv.dataset);
    const sqlType = { integer: 'int4', number: 'float8', boolean: 'bool', string: 'text' } as const;
    await admin.query(
      `create table ${schema}.credit (row_no int primary key, ${columns.map((c) => `"${c.name}" ${sqlType[c.type]}`).join(', ')})`,
    );
    const values: unknown[] = [];
    const tuples = rows.map((row, i) => {
      values.push(i + 1, ...columns.map((c) => row[c.name]));
      const base = i * (columns.length + 1);
      return `(${Array.from({ length: columns.length + 1 }, (_, j) => `$${base + j + 1}`).join(', ')})`;
    });
    await admin.query(`insert into ${schema}.credit values ${tuples.join(', ')}`, values);

    const out = await read({
      query: `select ${columns.map((c) => `"${c.name}"`).join(', ')} from ${schema}.credit order by row_no`,
      label: 'class',
    });
    assert.deepEqual(out.dataset.columns, csv.dataset.columns);
    assert.equal(out.dataset.rows, 1000);
    assert.equal(out.dataset.sha256, csv.dataset.sha256);
    assert.deepEqual(out.summary, csv.summary);
  });

  it('reports the query it read for lineage: server, database and query hash, and a fingerprint of the result', async () => {
    const { hostname, port, pathname } = new URL(url);
    const sourceOf = async (query: string, params: unknown[] = []) => {
      ctx.sources.length = 0;
      const out = await read({ query, params });
      assert.equal(ctx.sources.length, 1);
      return { source: ctx.sources[0]!, dataset: out.dataset };
    };
    const first = await sourceOf('select n, n * 2 as twice from generate_series(1, $1::int) n', [1500]);
    assert.equal(first.source.kind, 'query');
    assert.match(
      first.source.uri,
      new RegExp(`^postgres://${hostname}:${port || 5432}${pathname}\\?query-sha=[0-9a-f]{64}$`),
    );
    assert.match(first.source.sha256, /^[0-9a-f]{64}$/);
    assert.notEqual(
      first.source.sha256,
      first.dataset.sha256,
      "the source is not recorded under the dataset artifact's hash",
    );
    assert.ok(first.source.size > 1500);

    const again = await sourceOf('select n, n * 2 as twice from generate_series(1, $1::int) n', [1500]);
    assert.deepEqual(again.source, first.source, 'the same rows from the same query fingerprint the same');
    const fewer = await sourceOf('select n, n * 2 as twice from generate_series(1, $1::int) n', [1499]);
    assert.notEqual(fewer.source.sha256, first.source.sha256);
    assert.notEqual(fewer.source.uri, first.source.uri, 'the params are part of the query hash');
  });

  it('streams in batches of 1000 rows with a heartbeat per batch, binding params', async () => {
    ctx.heartbeats.length = 0;
    const out = await read({
      query: 'select n from generate_series(1, $1::int) as n where n % $2 <> 0;',
      params: [2600, 1000],
    });
    assert.equal(out.dataset.rows, 2598);
    assert.deepEqual(ctx.heartbeats, [
      { phase: 'fetch', rows: 1000 },
      { phase: 'fetch', rows: 2000 },
      { phase: 'fetch', rows: 2598 },
    ]);
    const { rows } = await loadDataset(ctx.artifacts, out.dataset);
    assert.deepEqual(rows.slice(998, 1001), [{ n: 999 }, { n: 1001 }, { n: 1002 }]);
  });

  it('maps PostgreSQL types to column types, NULL and NaN to missing, and converts declared columns', async () => {
    const out = await read({
      query: `select 1::int2 as a, 9007199254740991::int8 as b, 1.5::float8 as c, 1.25::numeric as d, true as e, 'x '::text as f,
        null::int4 as g, 'NaN'::float8 as h, date '2024-01-02' as i, timestamptz '2024-01-02 03:04:05+02' as j, '{"k": 1}'::jsonb as k,
        7 as l, '42'::text as m`,
      columns: { l: 'string', m: 'integer' },
    });
    assert.deepEqual(
      out.dataset.columns.map((c) => `${c.name}:${c.type}`),
      [
        'a:integer',
        'b:integer',
        'c:number',
        'd:number',
        'e:boolean',
        'f:string',
        'g:integer',
        'h:number',
        'i:string',
        'j:string',
        'k:string',
        'l:string',
        'm:integer',
      ],
    );
    assert.deepEqual(out.summary.missing, { g: 1, h: 1 });
    assert.deepEqual((await loadDataset(ctx.artifacts, out.dataset)).rows, [
      {
        a: 1,
        b: 9007199254740991,
        c: 1.5,
        d: 1.25,
        e: true,
        f: 'x ',
        g: null,
        h: null,
        i: '2024-01-02',
        j: '2024-01-02 01:04:05+00',
        k: '{"k": 1}',
        l: '7',
        m: 42,
      },
    ]);
  });

  it('names the row and column of a value that does not fit', async () => {
    await rejectsWith(
      read({
        query: 'select n, case when n = 3 then 9007199254740993 else n end::int8 as big from generate_series(1, 5) n',
      }),
      'InvalidData',
      /row 3, column 'big': 9007199254740993 does not fit a JavaScript number exactly/,
    );
    await rejectsWith(
      read({ query: "select v from (values ('1'), ('2'), ('two')) t(v)", columns: { v: 'number' } }),
      'InvalidData',
      /row 3, column 'v': 'two' is not a number \(the column is declared number\)/,
    );
  });

  it('rejects a label column that is not in the result, and a NULL label', async () => {
    await rejectsWith(
      read({ query: 'select 1 as x, 2 as y', label: 'class' }),
      'InvalidData',
      /label column 'class' not found; columns are x, y/,
    );
    await rejectsWith(
      read({ query: "select * from (values (1, 'good'), (2, null)) t(x, class)", label: 'class' }),
      'InvalidData',
      /row 2, column 'class': the label is missing/,
    );
  });

  it('rejects an empty result and a result with a column name twice', async () => {
    await rejectsWith(read({ query: 'select 1 as x where false' }), 'InvalidData', /returned no rows/);
    await rejectsWith(read({ query: 'select 1 as x, 2 as x' }), 'InvalidData', /column 'x' appears twice/);
  });

  it('fails a bad query without retrying, pointing into the query, and reads nothing in a write', async () => {
    await rejectsWith(
      read({ query: `select nope from ${schema}.credit` }),
      INVALID_QUERY,
      /column "nope" does not exist \(SQLSTATE 42703; at character 8 of the query/,
    );
    await rejectsWith(read({ query: `delete from ${schema}.credit returning *` }), INVALID_QUERY, /syntax error/);
    assert.equal((await admin.query(`select count(*)::int as n from ${schema}.credit`)).rows[0].n, 1000);
  });

  it('never puts a password in an error, a log or an output', async () => {
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const refused = await rejectsWith(
      read({ url: withPassword(password), query: 'select 1 as x' }),
      'InvalidData',
      /holds a password/,
    );
    process.env[SOURCE_DATABASE_URL] = withPassword(password);
    try {
      const bad = await rejectsWith(read({ query: 'select nope' }), INVALID_QUERY, /column "nope" does not exist/);
      const out = await read({ query: 'select 1 as x' });
      process.env[SOURCE_DATABASE_URL] = withPassword(password, 1);
      const down = await rejectsWith(
        read({ query: 'select 1 as x' }),
        DATABASE_UNAVAILABLE,
        /connecting to postgres:\/\/.*:1\//,
        false,
      );
      for (const text of [
        refused.message,
        bad.message,
        down.message,
        JSON.stringify(out),
        JSON.stringify(ctx.sources),
        ...logs,
      ])
        assert.ok(!text.includes(password), text);
      assert.ok(
        ctx.sources.length > 0 && ctx.sources.every((s) => !s.uri.includes('@')),
        `no user in a source: ${JSON.stringify(ctx.sources)}`,
      );
      assert.ok(logs.some((l) => l.startsWith('read PostgreSQL')));
    } finally {
      process.env[SOURCE_DATABASE_URL] = url;
    }
  });

  it('stops between batches when cancelled, passing the cancellation through unchanged', async () => {
    const cancelled = await testContext();
    try {
      const reason = new Error('cancelled by the test');
      cancelled.heartbeat = () => {
        cancelled.abort.abort(reason);
      };
      await assert.rejects(
        readPostgresImpl.run(
          readPostgres.input.parse({ query: 'select n from generate_series(1, 5000) n' }),
          cancelled,
        ),
        (error) => error === reason,
      );
    } finally {
      await cancelled.dispose();
    }
  });

  it("never reads Kiln's own store at DATABASE_URL: without a url, KILN_SOURCE_DATABASE_URL or PG* variables it asks for a database", async () => {
    setEnv({ DATABASE_URL: url });
    try {
      await rejectsWith(
        read({ query: 'select 1' }),
        'InvalidData',
        /no database to read: pass a url, or set KILN_SOURCE_DATABASE_URL \(or libpq's PGHOST, PGDATABASE, PGUSER...\).*DATABASE_URL is Kiln's own store/,
      );
    } finally {
      setEnv({ [SOURCE_DATABASE_URL]: url });
    }
  });

  it("reads the database libpq's PG* variables name when there is no url nor KILN_SOURCE_DATABASE_URL", async () => {
    const u = new URL(url);
    setEnv({
      PGHOST: u.hostname,
      PGPORT: u.port || '5432',
      PGUSER: decodeURIComponent(u.username),
      PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
      PGPASSWORD: u.password ? decodeURIComponent(u.password) : undefined,
    });
    try {
      const out = await read({ query: 'select current_database() as db, current_user as who' });
      const data = await loadDataset(ctx.artifacts, out.dataset);
      assert.deepEqual(data.rows, [
        { db: decodeURIComponent(u.pathname.slice(1)), who: decodeURIComponent(u.username) },
      ]);
      assert.match(
        logs.at(-1) ?? '',
        new RegExp(`^read PostgreSQL .*postgres://.*@${u.hostname}:${u.port || '5432'}/`),
      );
    } finally {
      setEnv({ [SOURCE_DATABASE_URL]: url });
    }
  });
});
