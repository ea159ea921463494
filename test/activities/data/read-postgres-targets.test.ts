import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { readPostgresImpl } from '../../../activities/data/read-postgres';
import { readPostgres } from '../../../activities/data/steps';
import { testContext } from '../../support/step-context';

// A pipeline author points data.readPostgres at a host of their choosing (the worker's
// PGPASSWORD would go with it) or at Kiln's own store. Listeners stand in for the servers, so a
// refusal is proven to happen before any connection is made.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
const home = mkdtempSync(join(tmpdir(), 'kiln-targets-'));
const socketFolder = join(home, '.kiln', 'db.sock');
let tcp: Server;
let unix: Server;
let port = 0;
let connections = 0;

const ENV = ['KILN_SOURCE_HOSTS', 'KILN_SOURCE_DATABASE_URL', 'DATABASE_URL', 'KILN_HOME', 'PGHOST', 'PGDATABASE'];
const saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
function setEnv(values: Record<string, string | undefined>) {
  for (const name of ENV) {
    if (values[name] === undefined) delete process.env[name];
    else process.env[name] = values[name];
  }
}

const listen = (server: Server, at: string | number) =>
  new Promise<void>((done) =>
    typeof at === 'number' ? server.listen(at, '127.0.0.1', done) : server.listen(at, done),
  );

before(async () => {
  ctx = await testContext();
  mkdirSync(socketFolder, { recursive: true, mode: 0o700 });
  const count = (socket: import('node:net').Socket) => {
    connections++;
    socket.destroy();
  };
  tcp = createServer(count);
  unix = createServer(count);
  await listen(tcp, 0);
  port = (tcp.address() as { port: number }).port;
  await listen(unix, join(socketFolder, '.s.PGSQL.5432'));
});
after(async () => {
  setEnv(saved);
  await new Promise((done) => tcp.close(done));
  await new Promise((done) => unix.close(done));
  await ctx.dispose();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(() => {
  connections = 0;
  setEnv({ KILN_HOME: join(home, '.kiln'), KILN_SOURCE_DATABASE_URL: 'postgres://reader@warehouse.internal/sales' });
});

const read = (input: Record<string, unknown>) =>
  readPostgresImpl.run(readPostgres.input.parse({ query: 'select 1 as x', ...input }), ctx);

async function refused(promise: Promise<unknown>, message: RegExp, type = 'InvalidInput') {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, message);
    return true;
  });
  assert.equal(connections, 0, 'a refused target was connected to');
}

describe('data.readPostgres targets', () => {
  it('refuses a url whose host the worker does not list, before connecting', async () => {
    await refused(
      read({ url: `postgres://reader@127.0.0.1:${port}/sales` }),
      new RegExp(
        `127\\.0\\.0\\.1:${port} is not a source host this worker allows \\(warehouse\\.internal\\); list it in the worker's KILN_SOURCE_HOSTS`,
      ),
    );
    process.env.KILN_SOURCE_HOSTS = `127.0.0.1:${port + 1}`;
    await refused(read({ url: `postgres://reader@127.0.0.1:${port}/sales` }), /is not a source host/);
  });

  it("refuses the store's own database at DATABASE_URL even on a listed host, by any loopback name", async () => {
    process.env.DATABASE_URL = `postgres://kiln@127.0.0.1:${port}/kiln`;
    process.env.KILN_SOURCE_HOSTS = `localhost:${port}`;
    await refused(read({ url: `postgres://kiln@localhost:${port}/kiln` }), /is Kiln's own store/);
    // The operator's own setting cannot name the store either.
    process.env.KILN_SOURCE_DATABASE_URL = `postgres://kiln@localhost:${port}/kiln`;
    await refused(read({}), /is Kiln's own store/);
  });

  it("refuses the PGlite store's socket folder under KILN_HOME even when listed", async () => {
    process.env.KILN_SOURCE_HOSTS = socketFolder;
    await refused(
      read({ url: `postgres://postgres@${encodeURIComponent(socketFolder)}/postgres` }),
      /the socket folder .*db\.sock is Kiln's own store/,
    );
    process.env.KILN_SOURCE_DATABASE_URL = `postgres://postgres@${encodeURIComponent(socketFolder)}/postgres`;
    await refused(read({}), /is Kiln's own store/);
  });

  it('refuses url parameters that redirect the connection or read files', async () => {
    process.env.KILN_SOURCE_HOSTS = 'warehouse.internal';
    await refused(
      read({ url: `postgres://reader@warehouse.internal/sales?host=${encodeURIComponent(socketFolder)}` }),
      /the url input sets 'host'; a step's url may set only sslmode, application_name/,
    );
    await refused(read({ url: 'postgres://reader@warehouse.internal/sales?sslkey=/etc/passwd' }), /sets 'sslkey'/);
  });

  it('refuses a password in the url: credentials come from the environment or a pgpass file', async () => {
    process.env.KILN_SOURCE_HOSTS = `127.0.0.1:${port}`;
    await refused(
      read({ url: `postgres://reader:hunter2@127.0.0.1:${port}/sales` }),
      /holds a password.*PGPASSWORD or pgpass file/,
      'InvalidData',
    );
  });

  it('connects to a listed host', async () => {
    process.env.KILN_SOURCE_HOSTS = `warehouse.internal, 127.0.0.1:${port}`;
    // The listener hangs up at once: the attempt reaching it is what this test needs.
    await assert.rejects(read({ url: `postgres://reader@127.0.0.1:${port}/sales` }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.type === 'DatabaseUnavailable', String(error));
      return true;
    });
    assert.equal(connections, 1);
  });
});
