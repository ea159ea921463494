import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openStore, type Store } from './db';
import { migrationsFolder } from './migrate';

const run = promisify(execFile);

/** A database for one test file; `open` is shared by every test in the file. */
export interface TestBackend {
  name: 'pglite' | 'postgres';
  open(): Promise<Store>;
  /** A second connection to the same database (for concurrency tests); closed by `close`. */
  openAnother(): Promise<Store>;
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
  for (const file of readdirSync(migrationsFolder).filter((f) => f.endsWith('.sql')).sort()) hash.update(file).update(readFileSync(join(migrationsFolder, file)));
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
    async openAnother() { return this.open(); },
    async exec(sql) { await (await get()).exec(sql); },
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
    async open() {
      const store = await openStore({ url: (await get()).url, poolSize: 8 });
      stores.push(store);
      return store;
    },
    async openAnother() { return this.open(); },
    async exec(sql) {
      const client = new pg.Client({ connectionString: (await get()).url });
      await client.connect();
      try { await client.query(sql); } finally { await client.end(); }
    },
    async close() {
      for (const s of stores) await s.close();
      if (setup) await (await setup).drop();
    },
  };
}

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const given = process.env.KILN_TEST_DATABASE_URL;
  const server = given ? { url: given, stop: async () => {} } : await startServer();
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
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
      await server.stop();
    },
  };
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  // Prefer the project's server helper once it exists; until then start one here.
  const shared = new URL('./postgres-server.ts', import.meta.url);
  if (existsSync(shared)) {
    const mod = (await import(shared.href)) as { startPostgres: () => Promise<{ url: string; stop: () => Promise<void> }> };
    return mod.startPostgres();
  }
  return startThrowawayPostgres();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function startThrowawayPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const bin = process.env.KILN_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  const dir = await mkdtemp(join(tmpdir(), 'kiln-pg-'));
  const root = process.getuid?.() === 0;
  // initdb refuses to run as root: run the server as the postgres user then.
  const as = async (args: string[]) => {
    if (!root) return run(args[0]!, args.slice(1));
    return run('su', ['postgres', '-s', '/bin/sh', '-c', args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')]);
  };
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await as([`${bin}/initdb`, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  await as([`${bin}/pg_ctl`, '-D', data, '-l', join(dir, 'log'), '-w', '-o', `-h 127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await as([`${bin}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
