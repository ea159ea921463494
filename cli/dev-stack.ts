import { mkdir } from 'node:fs/promises';
import type { KilnConfig } from './config';
import { connectClient, connectWorker } from './config';
import { isServerUp, startDevServer, type DevServer } from './temporal-server';
import { startWorker } from '../workers/run-worker';
import { bootstrapLocalAdmin, openKilnStore } from './store';

/**
 * Kiln on its embedded defaults: the Temporal dev server (SQLite under .kiln/, Web UI on :8233,
 * reused when one already answers), the store (PGlite under .kiln/ unless DATABASE_URL), and a
 * worker in this process recording into it.
 */
export async function startDevStack(config: KilnConfig, print: (line: string) => void) {
  await mkdir(config.home, { recursive: true });
  let server: DevServer | undefined;
  if (await isServerUp(config.address)) {
    print(`Using the Temporal server already at ${config.address}`);
  } else {
    const [host, port] = config.address.split(':');
    print('Starting the Temporal dev server…');
    server = await startDevServer({ dbFile: `${config.home}/temporal.db`, ip: host === 'localhost' ? '127.0.0.1' : host, port: Number(port ?? 7233), uiPort: Number(new URL(config.uiUrl).port || 8233), namespace: config.namespace });
    print(`Temporal dev server at ${server.address}, Web UI ${config.uiUrl}`);
  }
  // Shared: CLI commands in other shells reach the PGlite store through this process.
  const store = await openKilnStore(config, { share: true });
  await bootstrapLocalAdmin(store, config, print);
  print(`Store: ${config.databaseUrl ? 'PostgreSQL at DATABASE_URL' : `PGlite in ${config.home}/db`}`);
  const connection = await connectWorker(config);
  const { worker, running } = await startWorker({ connection, namespace: config.namespace, taskQueue: config.taskQueue, artifactsDir: config.artifactsDir, store });
  const client = await connectClient(config);
  return {
    client,
    worker,
    /** Resolves when the worker has stopped (Ctrl-C) and everything is shut down. */
    async closed() {
      await running;
      await store.close();
      await client.connection.close();
      await connection.close();
      await server?.stop();
    },
    async stop() {
      worker.shutdown();
      await this.closed();
    },
  };
}
