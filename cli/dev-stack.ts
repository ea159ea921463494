import type { KilnConfig } from '../runtime/config';
import { connectClient, connectWorker, privateDir } from '../runtime/config';
import { isServerUp, startDevServer, type DevServer } from './temporal-server';
import { startWorker } from '../workers/run-worker';
import { workerIdentity } from '../workers/catalog-advert';
import { startProjectSteps } from '../workers/project-steps';
import { reconcileEvery } from '../workers/reconcile';
import { bootstrapLocalAdmin, openKilnStore } from './store';
import { SYSTEM } from '../store';
import { checkpointEvery, checkpointFiles } from '../store/audit-checkpoint';

/**
 * Kiln on its embedded defaults: the Temporal dev server (SQLite under .kiln/, Web UI on :8233,
 * reused when one already answers), the store (PGlite under .kiln/ unless DATABASE_URL), and a
 * worker in this process recording into it. The worker runs the built-in steps and those of
 * `stepModules`, reloading a module when it is edited: on the embedded store, user steps run in
 * this process, the one that holds the store.
 */
export async function startDevStack(
  config: KilnConfig,
  print: (line: string) => void,
  options: { stepModules?: readonly string[] } = {},
) {
  await privateDir(config.home);
  let server: DevServer | undefined;
  if (await isServerUp(config.address)) {
    print(`Using the Temporal server already at ${config.address}`);
  } else {
    const [host, port] = config.address.split(':');
    print('Starting the Temporal dev server…');
    server = await startDevServer({
      dbFile: `${config.home}/temporal.db`,
      ip: host === 'localhost' ? '127.0.0.1' : host,
      port: Number(port ?? 7233),
      uiPort: Number(new URL(config.uiUrl).port || 8233),
      namespace: config.namespace,
    });
    print(`Temporal dev server at ${server.address}, Web UI ${config.uiUrl}`);
  }
  // Shared: CLI commands in other shells reach the PGlite store through this process.
  const opened: Array<() => Promise<unknown>> = [async () => server?.stop()];
  const unwind = async () => {
    for (const close of opened.reverse()) await close();
  };
  let store, connection, started, client;
  try {
    store = await openKilnStore(config, { share: true });
    opened.push(store.close);
    await bootstrapLocalAdmin(store, config, print);
    print(`Store: ${config.databaseUrl ? 'PostgreSQL at DATABASE_URL' : `PGlite in ${config.home}/db`}`);
    connection = await connectWorker(config);
    opened.push(() => connection!.close());
    const identity = workerIdentity();
    const steps = await startProjectSteps({
      home: config.home,
      taskQueue: config.taskQueue,
      identity,
      modules: options.stepModules ?? [],
      watch: true,
      print,
    });
    opened.push(steps.close);
    started = await startWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      artifactsDir: config.artifactsDir,
      store,
      steps: steps.live,
      identity,
    });
    client = await connectClient(config);
  } catch (error) {
    // Whatever started is stopped again: no dev server or store lock outlives a failed start.
    started?.worker.shutdown();
    await started?.running.catch(() => {});
    await unwind();
    throw error;
  }
  const { worker, running } = started;
  // Runs Temporal closed without their code recording it (terminated, timed out) are brought up to date.
  const stopReconciling = reconcileEvery(store, client, {
    onReconciled: (runs) => runs.forEach((r) => print(`Run ${r.runId} was ${r.status} in Temporal; recorded`)),
    onError: (error) => print(`Reconciling runs with Temporal failed: ${(error as Error).message}`),
  });
  // Signed with a key outside the store, so a rewritten or cut trail shows in `kiln audit verify`.
  const stopCheckpoints = checkpointEvery(store.audit, SYSTEM, checkpointFiles(config.home), {
    onError: (error) => print(`Signing an audit checkpoint failed: ${(error as Error).message}`),
  });
  return {
    client,
    worker,
    /** The store the worker records in; `kiln demo` serves the promoted model from it. */
    store,
    /** Resolves when the worker has stopped (Ctrl-C) and everything is shut down. */
    async closed() {
      await running;
      await stopReconciling();
      await stopCheckpoints();
      await client.connection.close();
      await unwind();
    },
    async stop() {
      worker.shutdown();
      await this.closed();
    },
  };
}
