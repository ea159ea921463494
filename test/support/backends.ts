import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openStore, type Store } from '../../store/db';
import { migrationsFolder } from '../../store/migrate';
import { startPostgres } from '../../store/postgres-server';

/** A database for one test file; `open` is shared by every test in the file. */
export interface TestBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<Store>;
  /** A second connection to the same database (for concurrency tests); closed by `close`. */
  openAnother(): Promise<Store>;
  /** A connection string other processes can open, for a server backend; PGlite in memory has none. */
  url?(): Promise<string>;
  /** Runs raw SQL as the database owner (to tamper with audit rows in tests). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * PGlite in memory and PostgreSQL: `KILN_TEST_DATABASE_URL` (a server the tests may create
 * databases on) when set, else a throwaway server. `KILN_TEST_BACKENDS=pglite` runs one only.
 */
export function testBackends(): TestBackend[] {
  const only = process.env.KILN_TEST_BACKENDS?.split(',').map((s) => s.trim());
  return [pgliteBackend(), postgresBackend()].filter((b) => !only || only.includes(b.name));
}

function migrationsHash(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsFolder)
    .filter((f) => f.endsWith('.sql'))
    .sort())
    hash.update(file).update(readFileSync(join(migrationsFolder, file)));
  return hash.digest('hex').slice(0, 16);
}

// initdb in WASM takes seconds; a migrated data dir, dumped once and loaded per file, takes half of one.
async function migratedPglite(): Promise<PGlite> {
  const template = join(tmpdir(), `kiln-pglite-template-${migrationsHash()}.tar`);
  if (existsSync(template)) {
    const blob = new Blob([await readFile(template)]);
    return PGlite.create({ loadDataDir: blob });
  }
  const fresh = new PGlite('memory://');
  const store = await openStore({ pglite: fresh });
  await store.close();
  const dump = await fresh.dumpDataDir('none');
  const tmp = `${template}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
  await rename(tmp, template);
  return fresh;
}

function pgliteBackend(): TestBackend {
  let client: Promise<PGlite> | undefined;
  const stores: Store[] = [];
  const get = () => (client ??= migratedPglite());
  return {
    name: 'pglite',
    async open() {
      const store = await openStore({ pglite: await get() });
      stores.push(store);
      return store;
    },
    // PGlite is one connection: a second store shares it, and its transactions queue.
    async openAnother() {
      return this.open();
    },
    async exec(sql) {
      await (await get()).exec(sql);
    },
    async close() {
      for (const s of stores) await s.close();
      if (client) await (await client).close();
    },
  };
}

function postgresBackend(): TestBackend {
  let setup: Promise<{ url: string; drop: () => Promise<void> }> | undefined;
  const stores: Store[] = [];
  const get = () => (setup ??= freshDatabase());
  return {
    name: 'postgres',
    async url() {
      return (await get()).url;
    },
    async open() {
      const store = await openStore({ url: (await get()).url, poolSize: 8 });
      stores.push(store);
      return store;
    },
    async openAnother() {
      return this.open();
    },
    async exec(sql) {
      const client = new pg.Client({ connectionString: (await get()).url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    async close() {
      for (const s of stores) await s.close();
      if (setup) await (await setup).drop();
    },
  };
}

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const given = process.env.KILN_TEST_DATABASE_URL;
  const server = given ? { url: given, stop: async () => {} } : await startPostgres();
  const name = `kiln_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      // pool.end() resolves before its sockets close: wait for them, so none is killed mid-goodbye.
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      await server.stop();
    },
  };
}
