import { startDevServer } from '../../cli/temporal-server';

/**
 * A Temporal server for an integration test file: the suite's shared one when TEMPORAL_ADDRESS
 * is set (scripts/test.sh starts it), else a private in-memory dev server stopped with the file.
 */
export async function temporal(): Promise<{ address: string; stop(): Promise<void> }> {
  const shared = process.env.TEMPORAL_ADDRESS;
  if (shared) return { address: shared, stop: async () => {} };
  const server = await startDevServer({ headless: true, dbFile: ':memory:' });
  return { address: server.address, stop: () => server.stop() };
}
