import { fileURLToPath } from 'node:url';
import { is } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle as drizzleNodePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import * as schema from './schema';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

// Any constant; two processes opening one server at once must not both run migrations.
const MIGRATION_LOCK = 7_463_519_001;

/** Applies store/migrations (drizzle-kit's SQL) to PGlite or PostgreSQL; already applied ones are skipped. */
export async function migrate(db: PgliteDatabase<typeof schema> | NodePgDatabase<typeof schema>): Promise<void> {
  if (is(db, PgliteDatabase)) {
    await migratePglite(db, { migrationsFolder });
    return;
  }
  const client = (db as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool)) {
    await migrateNodePg(db, { migrationsFolder });
    return;
  }
  const connection = await client.connect();
  try {
    await connection.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      if (!(await upToDate(connection)))
        await migrateNodePg(drizzleNodePg(connection, { schema }), { migrationsFolder });
    } finally {
      await connection.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    connection.release();
  }
}

/**
 * Whether every migration is applied, read without DDL: the migrator's first statement (CREATE
 * SCHEMA IF NOT EXISTS) needs a right that logins other than the store's owner do not hold.
 */
async function upToDate(connection: pg.PoolClient): Promise<boolean> {
  const newest = Math.max(...readMigrationFiles({ migrationsFolder }).map((m) => m.folderMillis));
  const { rows } = await connection
    .query<{ applied: string | null }>(`select max(created_at) as applied from drizzle.__drizzle_migrations`)
    .catch((error: { code?: string }) => {
      // 42P01: no migrations table yet, a new store.
      if (error.code === '42P01') return { rows: [{ applied: null }] };
      throw error;
    });
  return rows[0]?.applied != null && Number(rows[0].applied) >= newest;
}
