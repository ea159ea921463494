import { Client, Connection } from '@temporalio/client';
import { startDevServer } from '../../cli/temporal-server';

export interface TestTemporal {
  address: string;
  namespace: string;
  connection: Connection;
  client: Client;
  /** Closes the connection, and stops the server when this file started its own. */
  stop(): Promise<void>;
}

/**
 * A Temporal server for an integration test file: the suite's shared one when TEMPORAL_ADDRESS
 * is set (scripts/test.sh starts it), else a private headless in-memory dev server stopped
 * with the file. Files share the server, so give workers a task queue of the file's own.
 * @example
 * let t: TestTemporal;
 * before(async () => { t = await temporal(); });
 * after(() => t.stop());
 */
export async function temporal(): Promise<TestTemporal> {
  const shared = process.env.TEMPORAL_ADDRESS;
  const server = shared ? undefined : await startDevServer({ headless: true, dbFile: ':memory:' });
  const address = shared ?? server!.address;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  try {
    const connection = await Connection.connect({ address });
    return {
      address,
      namespace,
      connection,
      client: new Client({ connection, namespace }),
      async stop() {
        await connection.close();
        await server?.stop();
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}
