import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { startPostgres } from '../../store/postgres-server';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('throwaway PostgreSQL server', { timeout: 120_000 }, () => {
  it('starts a server with a database that answers queries, then stops it and removes its dir', async () => {
    const started = Date.now();
    const server = await startPostgres();
    console.log(`postgres answered after ${Date.now() - started} ms`);
    try {
      assert.match(server.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/kiln$/);
      assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);
      const [{ db }] = (await query<{ db: string }>(server.url, 'select current_database() as db')) as [{ db: string }];
      assert.equal(db, 'kiln');
    } finally {
      await server.stop();
    }
    await server.stop();
    assert.equal(existsSync(server.dir), false);
    await assert.rejects(query(server.url, 'select 1'));
  });

  it('keeps a cluster in a given dir and reuses it on the next start', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'kiln-pg-test-'));
    await chmod(parent, 0o755);
    const dir = join(parent, 'cluster');
    try {
      const first = await startPostgres({ dir, database: 'keep' });
      await query(first.url, 'create table marks (n int); insert into marks values (7)');
      await first.stop();
      assert.ok(existsSync(join(dir, 'data', 'PG_VERSION')));
      const second = await startPostgres({ dir, database: 'keep' });
      try {
        assert.deepEqual(await query(second.url, 'select n from marks'), [{ n: 7 }]);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('fails with the server log when the given port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as AddressInfo;
    try {
      await assert.rejects(startPostgres({ port }), (error: Error) => {
        assert.equal(error.name, 'PostgresServerError');
        assert.match(error.message, /exited early/);
        assert.match(error.message, /could not bind/);
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});
