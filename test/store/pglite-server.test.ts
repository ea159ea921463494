import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { servePglite, type PgliteServer } from '../../store/pglite-server';

// The served PGlite is one Postgres session for every connection; these tests are what went
// wrong when the server queued single messages: Parse of one client between Parse and Bind of
// another, a transaction's rows seen half-written by others, a dead client's lock kept forever.

describe('one PGlite session served to many connections', () => {
  let db: PGlite;
  let dir: string;
  let server: PgliteServer;
  const open: pg.Client[] = [];

  async function client(options: { pipeline?: boolean } = {}) {
    const c = new pg.Client({ host: dir, database: 'postgres', user: 'postgres', ...options });
    await c.connect();
    open.push(c);
    return c;
  }

  before(async () => {
    db = new PGlite();
    dir = await mkdtemp(join(tmpdir(), 'kiln-pglite-server-'));
    server = await servePglite(db, join(dir, '.s.PGSQL.5432'), { waitMs: 1000, idleMs: 2000 });
    await db.exec('create table t (owner int not null, n int not null, primary key (owner, n))');
  });
  after(async () => {
    await Promise.all(open.map((c) => c.end().catch(() => {})));
    await server.stop();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 20 clients pipelining parameterised queries of different shapes each with its own rows', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => client({ pipeline: true })));
    await Promise.all(
      clients.map(async (c, i) => {
        // All sent before any answer: Parse/Bind/Describe/Execute/Sync for each, back to back.
        const answers = await Promise.all(
          Array.from({ length: 30 }, (_, k) =>
            (i + k) % 2
              ? c.query('select $1::int as a, $2::text as b, $3::int * 2 as c', [i, `q${k}`, k])
              : c.query('select $1::int + 1000 as x', [i * 100 + k]),
          ),
        );
        answers.forEach((r, k) =>
          assert.deepEqual(r.rows, (i + k) % 2 ? [{ a: i, b: `q${k}`, c: k * 2 }] : [{ x: i * 100 + k + 1000 }]),
        );
      }),
    );
  });

  it('keeps each transaction whole: others never see its rows half-written, a failed one leaves none', async () => {
    const writers = await Promise.all(Array.from({ length: 10 }, () => client()));
    const readers = await Promise.all(Array.from({ length: 5 }, () => client()));
    const ROWS = 5;
    let writing = true;
    const seen: number[] = [];
    const reading = readers.map(async (r, i) => {
      while (writing) {
        const { rows } = await r.query<{ n: string }>('select count(*) as n from t where owner = $1', [i]);
        seen.push(Number(rows[0]!.n));
      }
    });
    await Promise.all(
      writers.map(async (w, i) => {
        await w.query('begin');
        for (let n = 0; n < ROWS; n++) await w.query('insert into t (owner, n) values ($1, $2)', [i, n]);
        assert.equal((await w.query('select count(*)::int as n from t where owner = $1', [i])).rows[0].n, ROWS);
        await w.query('commit');
        // A failed transaction: its insert must be rolled back, for this client alone.
        await w.query('begin');
        await w.query('insert into t (owner, n) values ($1, 999)', [i]);
        await assert.rejects(w.query('select 1 / 0'), /division by zero/);
        await w.query('rollback');
      }),
    );
    writing = false;
    await Promise.all(reading);
    assert.ok(seen.length > 0);
    assert.deepEqual(
      seen.filter((n) => n % ROWS !== 0),
      [],
      'a reader saw a transaction half-written',
    );
    const { rows } = await writers[0]!.query<{ owner: number; n: number }>(
      'select owner, count(*)::int as n from t group by owner order by owner',
    );
    assert.deepEqual(
      rows,
      Array.from({ length: 10 }, (_, owner) => ({ owner, n: ROWS })),
    );
  });

  it('rolls back a client killed mid-transaction at once, and the others carry on', async () => {
    const others = await client();
    // A real process, SIGKILLed while its transaction holds the session.
    const script = `import pg from 'pg';
const c = new pg.Client({ host: ${JSON.stringify(dir)}, database: 'postgres', user: 'postgres' });
await c.connect(); await c.query('begin'); await c.query('insert into t (owner, n) values (500, 1)');
console.log('inside'); await new Promise(() => {});`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const waiting = others.query('select count(*)::int as n from t where owner = 500');
    child.kill('SIGKILL');
    const started = Date.now();
    assert.deepEqual((await waiting).rows, [{ n: 0 }]);
    // Well under idleMs (2 s): the close itself released the session, not a timeout.
    assert.ok(Date.now() - started < 1000, `waited ${Date.now() - started} ms`);
  });

  it('rolls back an extended-protocol insert whose client vanished before Sync', async () => {
    const raw = await rawSession(join(dir, '.s.PGSQL.5432'));
    // Parse, Bind, Execute of an insert, then Flush (answers without ending the implicit transaction).
    raw.socket.write(
      Buffer.concat([
        frame('P', cstr(''), cstr('insert into t (owner, n) values (600, 1)'), int16(0)),
        frame('B', cstr(''), cstr(''), int16(0), int16(0), int16(0)),
        frame('E', cstr(''), int32(0)),
        frame('H'),
      ]),
    );
    await raw.until('C'); // CommandComplete: the insert ran, uncommitted until a Sync that never comes
    raw.socket.destroy();
    const others = await client();
    assert.deepEqual((await others.query('select count(*)::int as n from t where owner = 600')).rows, [{ n: 0 }]);
  });

  it('refuses a connection that waited past waitMs, and drops a holder silent past idleMs with its transaction', async () => {
    const holder = await client();
    holder.on('error', () => {});
    await holder.query('begin');
    await holder.query('insert into t (owner, n) values (700, 1)');
    const silent = Date.now();
    const waiter = await client().catch((e: Error) => e);
    // Connecting needs the session too (the startup message goes to PGlite), so it may fail there already.
    const refused = waiter instanceof Error ? waiter : await waiter.query('select 1').catch((e: Error) => e);
    assert.match(String(refused), /waited 1000 ms for the shared PGlite store/);
    await sleep(2200 - (Date.now() - silent));
    // Silent past idleMs (2 s): the holder was dropped, its insert rolled back.
    await assert.rejects(holder.query('select 1'));
    const after = await client();
    assert.deepEqual((await after.query('select count(*)::int as n from t where owner = 700')).rows, [{ n: 0 }]);
  });

  it("clears a closed connection's session state: settings, temp tables, prepared statements", async () => {
    const first = await client();
    await first.query("set application_name = 'first'");
    await first.query('create temp table scratch (x int)');
    await first.query({ name: 'named', text: 'select 1 as one' });
    await first.end();
    const next = await client();
    const { rows } = await next.query(
      "select current_setting('application_name') as app, to_regclass('pg_temp.scratch') as tmp, (select count(*)::int from pg_prepared_statements) as prepared",
    );
    assert.deepEqual(rows, [{ app: '', tmp: null, prepared: 0 }]);
  });

  it('ends with nobody waiting and no connection holding the session', async () => {
    await Promise.all(open.splice(0).map((c) => c.end().catch(() => {})));
    await sleep(50);
    assert.deepEqual(server.stats(), { connections: 0, waiting: 0, holding: undefined });
  });
});

// Just enough of the frontend protocol to stop halfway through an extended-protocol sequence.
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const cstr = (s: string) => Buffer.from(`${s}\0`);
const frame = (type: string, ...body: Buffer[]) => {
  const payload = Buffer.concat(body);
  return Buffer.concat([Buffer.from(type), int32(4 + payload.length), payload]);
};

/** A connection past startup, and a way to wait for a backend message of a given type. */
async function rawSession(path: string) {
  const socket: Socket = connect(path);
  let received = Buffer.alloc(0);
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    waiters.splice(0).forEach((w) => w());
  });
  const types = () => {
    const found: string[] = [];
    for (let at = 0; at + 5 <= received.length; at += 1 + received.readInt32BE(at + 1))
      found.push(String.fromCharCode(received[at]!));
    return found;
  };
  const until = async (type: string) => {
    while (!types().includes(type)) await new Promise<void>((r) => waiters.push(r));
    received = Buffer.alloc(0);
  };
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const params = Buffer.concat([cstr('user'), cstr('postgres'), cstr('database'), cstr('postgres'), cstr('')]);
  socket.write(Buffer.concat([int32(8 + params.length), int32(196608), params]));
  await until('Z');
  return { socket, until };
}
