// Holds the test suite's shared servers: one headless in-memory Temporal dev server and one
// throwaway PostgreSQL. Prints their environment as KEY=value lines, then `ready`, on stdout;
// stops both on SIGTERM/SIGINT or when the shell that started it is gone.
// Usage: node --import tsx scripts/test-servers.ts LOG_DIR
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { startDevServer } from '../cli/temporal-server';
import { startPostgres } from '../store/postgres-server';

const logDir = process.argv[2] ?? '.';
const temporalLog = createWriteStream(join(logDir, 'temporal.log'));
const since = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

const start = performance.now();
const [temporal, postgres] = await Promise.allSettled([
  startDevServer({ headless: true, dbFile: ':memory:', onOutput: (chunk) => temporalLog.write(chunk) }).then(
    (server) => {
      console.error(`test-servers: Temporal dev server at ${server.address} after ${since(start)}`);
      return server;
    },
  ),
  startPostgres({ database: 'kiln_test' }).then((server) => {
    console.error(`test-servers: PostgreSQL at ${server.url} after ${since(start)}`);
    return server;
  }),
]);

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.allSettled([temporal, postgres].map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    temporalLog.end();
  }
  process.exit(code);
}

if (temporal.status === 'rejected' || postgres.status === 'rejected') {
  for (const s of [temporal, postgres])
    if (s.status === 'rejected') console.error(`test-servers: ${(s.reason as Error).message}`);
  await stopAll(1);
} else {
  process.stdout.write(
    `TEMPORAL_ADDRESS=${temporal.value.address}\nKILN_TEST_DATABASE_URL=${postgres.value.url}\nready\n`,
  );
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGINT', () => void stopAll(0));
  // If the shell is killed outright its trap never runs; this process notices it was orphaned.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stopAll(0);
  }, 1000);
}
