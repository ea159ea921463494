import { join } from 'node:path';
import { ArtifactStore } from '../../activities/artifacts/store';
import { startServing, storeSource } from '../../serving';
import { openStore, SYSTEM } from '../../store';

// Kiln's model server for the benchmark, in its own process: the PGlite store under HOME, the
// artifacts in ARTIFACTS, with or without the prediction log. Prints its URL.
//   node --import tsx bench/serve/kiln-server.ts HOME ARTIFACTS log|no-log

const [home, artifacts, log] = process.argv.slice(2);
const store = await openStore({ dir: join(home!, 'db') });
const { server, url } = await startServing(
  storeSource(store, new ArtifactStore(artifacts!), SYSTEM),
  [{ name: 'credit-risk', alias: 'production' }],
  { port: 0, host: '127.0.0.1', maxRows: 1000, log: log === 'log' ? {} : false },
);
console.log(`ready ${url}`);
process.once('SIGTERM', () => {
  void server
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});
