import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { gitCodeVersion } from '../../store/code-version';
import { openStore } from '../../store/db';
import { migrationsFolder } from '../../store/migrate';
import { startPostgres } from '../../store/postgres-server';
import { sha } from '../support/store-fixtures';
import { SYSTEM } from '../../store/access';

const run = promisify(execFile);

describe('openStore', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-store-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps a PGlite store in a directory across reopenings, migrating once', async () => {
    const first = await openStore({ dir: join(dir, 'db') });
    assert.equal(first.driver, 'pglite');
    await first.artifacts.recordArtifact(SYSTEM, { sha256: sha('kept'), kind: 'dataset', size: 3 });
    await first.audit.appendAudit(SYSTEM, { actor: 'a', action: 'x', subject: 's' });
    await first.close();
    const again = await openStore({ dir: join(dir, 'db') });
    assert.equal((await again.artifacts.getArtifact(SYSTEM, sha('kept')))?.size, 3);
    assert.deepEqual(await again.audit.verifyAudit(SYSTEM), { ok: true, count: 1 });
    const applied = await again.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const journal = JSON.parse(await readFile(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
      entries: unknown[];
    };
    assert.equal((applied as unknown as { rows: Array<{ n: number }> }).rows[0]!.n, journal.entries.length);
    await again.close();
  });

  it('refuses a second opening of a PGlite directory while an unshared first is open, after waiting', async () => {
    const path = join(dir, 'locked');
    const first = await openStore({ dir: path });
    await assert.rejects(
      openStore({ dir: path, waitMs: 200 }),
      (e: Error) => e.name === 'StoreLockedError' && e.message.includes(`process ${process.pid}`),
    );
    await first.close();
    const again = await openStore({ dir: path });
    await again.close();
  });

  it('serves a shared PGlite directory to other processes, whose writes land in the same database', async () => {
    const path = join(dir, 'shared');
    const owner = await openStore({ dir: path, share: true });
    assert.equal(owner.driver, 'pglite-shared');
    // Another process: a CLI command while the worker holds the store.
    const script = `import { SYSTEM } from './store/access';
import { openStore } from './store/db';
const s = await openStore({ dir: ${JSON.stringify(path)} });
await Promise.all([0, 1, 2, 3].map((i) => s.audit.appendAudit(SYSTEM, { actor: 'cli', action: 'x', subject: String(i) })));
console.log(s.driver); await s.close();`;
    // Asynchronous: this process serves the child's queries, so it must not block on it.
    const child = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(child.stdout.trim(), 'pglite-shared');
    await Promise.all(
      [0, 1, 2, 3].map((i) => owner.audit.appendAudit(SYSTEM, { actor: 'worker', action: 'x', subject: String(i) })),
    );
    assert.deepEqual(await owner.audit.verifyAudit(SYSTEM), { ok: true, count: 8 });
    // Two clients run the same lineage query: one PGlite session under both, so no named statements.
    const clients = [await openStore({ dir: path }), await openStore({ dir: path })];
    await clients[0]!.artifacts.recordArtifact(SYSTEM, { sha256: sha('shared'), kind: 'dataset', size: 1 });
    for (const c of clients) assert.equal((await c.lineage.downstream(SYSTEM, sha('shared'))).nodes.length, 1);
    for (const c of clients) await c.close();
    // A second long-lived owner is refused: it would lose the store when this one stops.
    await assert.rejects(
      openStore({ dir: path, share: true }),
      (e: Error) => e.name === 'StoreSharedError' && /DATABASE_URL/.test(e.message),
    );
    await owner.close();
    const reopened = await openStore({ dir: path });
    assert.equal(reopened.driver, 'pglite');
    assert.equal((await reopened.audit.listAudit(SYSTEM, {})).length, 8);
    await reopened.close();
  });

  it('lets two processes open one fresh PostgreSQL database at once: migrations run once', async () => {
    const given = process.env.KILN_TEST_DATABASE_URL;
    const server = given ? undefined : await startPostgres();
    const base = given ?? server!.url;
    const name = `kiln_open_${process.pid}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    try {
      const stores = await Promise.all([openStore({ url: url.toString() }), openStore({ url: url.toString() })]);
      assert.deepEqual(
        stores.map((s) => s.driver),
        ['postgres', 'postgres'],
      );
      await stores[0]!.audit.appendAudit(SYSTEM, { actor: 'a', action: 'x', subject: 's' });
      assert.deepEqual(await stores[1]!.audit.verifyAudit(SYSTEM), { ok: true, count: 1 });
      for (const s of stores) await s.close();
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      await server?.stop();
    }
  });

  it('names the server it could not reach, without the password', async () => {
    await assert.rejects(
      openStore({ url: 'postgres://kiln:secret@127.0.0.1:1/kiln' }),
      (e: Error) =>
        /could not open the store at postgres:\/\/kiln:\*\*\*@127\.0\.0\.1:1\/kiln/.test(e.message) &&
        !e.message.includes('secret'),
    );
  });

  it('reads the code version from git', async () => {
    const here = await gitCodeVersion();
    assert.match(here.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(typeof here.dirty, 'boolean');
    assert.deepEqual(await gitCodeVersion(dir), { commit: null, dirty: false });
  });
});
