import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { accessApi } from './access';
import { artifactsApi } from './artifacts';
import { auditApi } from './audit';
import { decisionsApi } from './decisions';
import { plainReader, preparedReader, type Executor, type ReadRunner } from './executor';
import { experimentsApi } from './experiments';
import { lineageApi } from './lineage/query';
import { migrate } from './migrate';
import { lockPgliteDir } from './pglite-lock';
import { registryApi } from './registry';
import { runsApi } from './runs';
import * as schema from './schema';
import { stepsApi } from './steps';

export interface StoreOptions {
  /** A PostgreSQL connection string; defaults to $DATABASE_URL. When absent, PGlite is used. */
  url?: string;
  /** PGlite data directory (default `.kiln/db`), or `memory://` for a throwaway in-memory database. */
  dir?: string;
  /** An already open PGlite instance to use (tests share one); the store does not close it. */
  pglite?: PGlite;
  /** node-postgres pool size; default 10. */
  poolSize?: number;
  /** Apply migrations on open; default true. */
  migrate?: boolean;
}

function api(db: Executor, read: ReadRunner = plainReader(db)) {
  const access = accessApi(db);
  return {
    ...runsApi(db),
    ...stepsApi(db),
    ...artifactsApi(db),
    ...lineageApi(db, read),
    ...experimentsApi(db),
    ...registryApi(db, access),
    ...decisionsApi(db, access),
    ...access,
    ...auditApi(db),
  };
}

/** The lineage, registry, access and audit store over PGlite or PostgreSQL: one API for both. */
export type Store = ReturnType<typeof api> & {
  readonly driver: 'pglite' | 'postgres';
  /** The drizzle database, for queries the API does not cover. */
  readonly db: Executor;
  close(): Promise<void>;
};

/**
 * Opens the store and applies pending migrations: PostgreSQL when `url` (or $DATABASE_URL) is
 * set, else PGlite in `dir`. PGlite is single-process: a second process opening the same directory
 * gets a StoreLockedError.
 * @example const store = await openStore({}); await store.upstream('credit-risk@production');
 */
export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const url = options.url ?? (options.pglite || options.dir ? undefined : process.env.DATABASE_URL);
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // pool.end() resolves before its sockets close; close() waits for each, so a server stopped
    // or a database dropped right after close() kills no live connection.
    const closed = new Set<Promise<void>>();
    pool.on('connect', (client) => { closed.add(new Promise((done) => client.once('end', () => done()))); });
    const db = drizzleNodePg(pool, { schema });
    try {
      if (options.migrate !== false) await migrate(db);
    } catch (error) {
      await pool.end();
      await Promise.all(closed);
      throw new Error(`could not open the store at ${redact(url)}: ${(error as Error).message}`, { cause: error });
    }
    const close = async () => {
      await pool.end();
      await Promise.all(closed);
    };
    return { ...api(db, preparedReader(pool)), driver: 'postgres', db, close };
  }
  let client = options.pglite;
  const owned = !client;
  let unlock = async () => {};
  if (!client) {
    const dir = options.dir ?? '.kiln/db';
    if (dir.startsWith('memory://')) client = new PGlite(dir);
    else {
      await mkdir(resolve(dir), { recursive: true });
      unlock = await lockPgliteDir(resolve(dir));
      client = new PGlite(resolve(dir));
    }
  }
  const pglite = client;
  const close = async () => {
    if (owned) await pglite.close();
    await unlock();
  };
  const db = drizzlePglite(pglite, { schema });
  try {
    if (options.migrate !== false) await migrate(db);
  } catch (error) {
    await close();
    throw error;
  }
  return { ...api(db), driver: 'pglite', db, close };
}

const redact = (url: string) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
