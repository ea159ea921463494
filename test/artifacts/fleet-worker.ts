import { NativeConnection, type Worker } from '@temporalio/worker';
import { builtinSteps } from '../../activities';
import { openStore } from '../../store';
import { createKilnWorker } from '../../workers/create-worker';

// One machine of a two-worker fleet, in a process of its own: it shares only PostgreSQL, Temporal
// and the object store (KILN_ARTIFACTS, KILN_S3_ENDPOINT and keys from the environment) with
// the other. With a train queue, it also serves the steps routed there, and no workflows on it.
const [address, taskQueue, trainQueue, databaseUrl] = process.argv.slice(2) as [string, string, string, string];
const artifactsDir = process.env.KILN_ARTIFACTS!;
const connection = await NativeConnection.connect({ address });
const store = await openStore({ url: databaseUrl, poolSize: 4 });
const workers: Worker[] = [await createKilnWorker({ connection, taskQueue, steps: builtinSteps, artifactsDir, store })];
if (trainQueue)
  workers.push(
    await createKilnWorker({
      connection,
      taskQueue: trainQueue,
      steps: builtinSteps,
      artifactsDir,
      store,
      workflows: false,
    }),
  );
process.once('SIGTERM', () => workers.forEach((w) => w.shutdown()));
process.stdout.write('ready\n');
await Promise.all(workers.map((w) => w.run()));
await store.close();
await connection.close();
