import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres } from '../../store/postgres-server';

export interface TestPostgres {
  /** A database of this caller's own, created empty. */
  url: string;
  /** Drops the database, and stops the server when this file started its own. */
  stop(): Promise<void>;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, empty PostgreSQL database for an integration test file: on the suite's shared server
 * when KILN_TEST_DATABASE_URL is set (scripts/test.sh starts it), else on a private throwaway
 * server stopped with the file.
 * @example
 * let db: TestPostgres;
 * before(async () => { db = await postgres(); });
 * after(() => db.stop());
 */
export async function postgres(): Promise<TestPostgres> {
  const shared = process.env.KILN_TEST_DATABASE_URL;
  const server = shared ? undefined : await startPostgres();
  const serverUrl = shared ?? server!.url;
  const name = `kiln_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  try {
    await admin(serverUrl, `create database ${name}`);
  } catch (error) {
    await server?.stop();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async stop() {
      try {
        await admin(serverUrl, `drop database if exists ${name} with (force)`);
      } finally {
        await server?.stop();
      }
    },
  };
}
