import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { accessApi } from './access';
import { artifactsApi } from './artifacts';
import { auditApi } from './audit';
import { decisionsApi } from './decisions';
import {
  pgliteLiterals,
  plainReader,
  poolLiterals,
  preparedReader,
  type Executor,
  type LiteralRunner,
  type ReadRunner,
} from './executor';
import { experimentsApi } from './experiments';
import { lineageApi } from './lineage/query';
import { migrate } from './migrate';
import { monitoringApi } from './monitoring';
import { lockPgliteDir, StoreSharedError } from './pglite-lock';
import { withDrizzleParsers } from './pglite-parsers';
import { servePglite } from './pglite-server';
import { registryApi } from './registry';
import { retentionApi } from './retention';
import { runsApi } from './runs';
import { servingApi } from './serving';
import * as schema from './schema';
import { stepsApi } from './steps';

export interface StoreOptions {
  /** A PostgreSQL connection string; defaults to $DATABASE_URL. When absent, PGlite is used. */
  url?: string;
  /** PGlite data directory (default `.kiln/db`), or `memory://` for a throwaway in-memory database. */
  dir?: string;
  /** An already open PGlite instance to use (tests share one); the store does not close it. */
  pglite?: PGlite;
  /**
   * Serve the PGlite directory to other processes over a local socket while open: for the
   * long-lived owner (the worker, `kiln dev`), so that CLI commands can open the store meanwhile.
   */
  share?: boolean;
  /** How long to wait for a process that holds the PGlite directory without sharing it; default 30 s. */
  waitMs?: number;
  /** node-postgres pool size; default 10. */
  poolSize?: number;
  /** Apply migrations on open; default true. */
  migrate?: boolean;
}

function api(db: Executor, read: ReadRunner, literals: LiteralRunner) {
  const access = accessApi(db);
  return {
    runs: runsApi(db, access),
    steps: stepsApi(db, access, literals),
    artifacts: artifactsApi(db, access),
    lineage: lineageApi(db, access, read),
    experiments: experimentsApi(db, access),
    registry: registryApi(db, access),
    decisions: decisionsApi(db, access),
    serving: servingApi(db, access),
    monitoring: monitoringApi(db, access),
    retention: retentionApi(db, access),
    access,
    audit: auditApi(db, access),
  };
}

/**
 * The lineage, registry, access and audit store over PGlite or PostgreSQL: one API for both, by
 * namespace. Every method that reads or writes what a role guards takes the acting principal
 * first and checks it here (`access.authorize`), so the CLI, the console and steps share one gate.
 */
export type Store = ReturnType<typeof api> & {
  /** `pglite-shared`: a PGlite directory served by another process (or by this one, to others). */
  readonly driver: 'pglite' | 'pglite-shared' | 'postgres';
  /** The drizzle database, for queries the API does not cover. */
  readonly db: Executor;
  close(): Promise<void>;
};

async function openPostgres(
  url: string,
  options: StoreOptions,
  driver: Store['driver'],
  after: () => Promise<void> = async () => {},
): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // pool.end() resolves before its sockets close; close() waits for each, so a server stopped
  // or a database dropped right after close() kills no live connection.
  const closed = new Set<Promise<void>>();
  pool.on('connect', (client) => {
    closed.add(new Promise((done) => client.once('end', () => done())));
  });
  // An idle connection that breaks (the server restarted, the network cut) is dropped by the
  // pool and a new one opened on next use; unheard, its error would end the whole process.
  pool.on('error', (error) => {
    console.warn(`store: an idle connection to ${redact(url)} failed and was dropped: ${error.message}`);
  });
  const db = drizzleNodePg(pool, { schema });
  const close = async () => {
    await pool.end();
    await Promise.all(closed);
    await after();
  };
  try {
    if (options.migrate !== false) await migrate(db);
  } catch (error) {
    await close();
    throw new Error(`could not open the store at ${redact(url)}: ${(error as Error).message}`, { cause: error });
  }
  // Named prepared statements live in the server session; a shared PGlite is one session for
  // every connection, where a second connection's Parse of the same name would collide.
  return {
    ...api(db, driver === 'postgres' ? preparedReader(pool) : plainReader(db), poolLiterals(pool)),
    driver,
    db,
    close,
  };
}

/**
 * Opens the store and applies pending migrations: PostgreSQL when `url` (or $DATABASE_URL) is
 * set, else PGlite in `dir`. PGlite is single-process: the process that opens a directory with
 * `share` serves it to the others; one that does not is waited for, then refused with a
 * StoreLockedError.
 * @example const store = await openStore({}); await store.lineage.upstream(principal, 'credit-risk@production');
 */
export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const url = options.url ?? (options.pglite || options.dir ? undefined : process.env.DATABASE_URL);
  if (url) return openPostgres(url, options, 'postgres');
  if (options.pglite) return pgliteStore(options.pglite, options, async () => {});
  const dir = options.dir ?? '.kiln/db';
  if (dir.startsWith('memory://')) {
    const client = new PGlite(dir);
    return pgliteStore(client, options, () => client.close());
  }
  // Only this user may enter the store's folder (and KILN_HOME, when this creates it).
  await mkdir(resolve(dir), { recursive: true, mode: 0o700 });
  await chmod(resolve(dir), 0o700);
  const lock = await lockPgliteDir(resolve(dir), options.waitMs === undefined ? {} : { waitMs: options.waitMs });
  if (!lock.owner) {
    // A second long-lived owner would lose the store when the first one stops.
    if (options.share) throw new StoreSharedError(resolve(dir), lock.pid);
    return openPostgres(lock.url, { ...options, poolSize: options.poolSize ?? 4 }, 'pglite-shared');
  }
  let client: PGlite | undefined;
  try {
    client = new PGlite(resolve(dir));
    const owned = client;
    if (!options.share)
      return await pgliteStore(owned, options, async () => {
        await owned.close();
        await lock.release();
      });
    if (options.migrate !== false) await migrate(drizzlePglite(owned, { schema }));
    const { server, url: served } = await serveOnUnixSocket(owned, `${resolve(dir)}.sock`);
    await lock.publish(served);
    // This process goes through the socket too: the server gives each connection the session
    // until it is idle, keeping transactions whole, which direct calls beside it would not.
    return await openPostgres(served, { ...options, migrate: false }, 'pglite-shared', async () => {
      // Withdrawn first: a command opening now waits for the directory instead of a dying socket.
      await lock.withdraw();
      await server.stop();
      await owned.close();
      await lock.release();
    });
  } catch (error) {
    await client?.close().catch(() => {});
    await lock.release();
    throw error;
  }
}

/**
 * Serves PGlite on a Unix socket in a folder only this user can enter: the server asks for no
 * password, so a TCP port would hand the store to every local user.
 */
async function serveOnUnixSocket(db: PGlite, preferred: string) {
  // A socket path has at most 107 bytes (103 on macOS); a deep directory serves from a private temp folder.
  const folder = join(preferred, '.s.PGSQL.5432').length <= 100 ? preferred : await mkdtemp(join(tmpdir(), 'kiln-db-'));
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await chmod(folder, 0o700);
  // The name libpq and node-postgres look for in a socket folder, for the default port.
  const path = join(folder, '.s.PGSQL.5432');
  await rm(path, { force: true });
  const server = await servePglite(db, path);
  return { server, url: `postgres://postgres@${encodeURIComponent(folder)}/postgres` };
}

async function pgliteStore(client: PGlite, options: StoreOptions, close: () => Promise<void>): Promise<Store> {
  const db = drizzlePglite(withDrizzleParsers(client), { schema });
  try {
    if (options.migrate !== false) await migrate(db);
  } catch (error) {
    await close();
    throw error;
  }
  return { ...api(db, plainReader(db), pgliteLiterals(client)), driver: 'pglite', db, close };
}

const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
