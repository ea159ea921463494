import { parseArgs } from 'node:util';
import { connectClient, connectWorker, loadConfig } from '../../runtime/config';
import { startLogging, whereLogsGo } from '../../runtime/logging';
import { reconcileEvery } from '../../workers/reconcile';
import { openKilnStore } from '../store';
import { SYSTEM } from '../../store';
import { checkpointEvery, checkpointFiles } from '../../store/audit-checkpoint';
import { startWorker } from '../../workers/run-worker';
import { workerIdentity } from '../../workers/catalog-advert';
import { startProjectSteps } from '../../workers/project-steps';
import { projectSettings } from '../../runtime/project-config';

export const help = `kiln worker [--task-queue Q] [--steps module.ts]… [--no-workflows] [--verbose]
  Runs a worker for the pipeline workflow and the built-in steps (plus the steps a module
  exports; repeatable, and kiln.config.ts may list them), recording runs, steps and lineage
  in the store, until SIGINT/SIGTERM; running steps finish first. Several workers share one store through DATABASE_URL (PostgreSQL).
  Log records go to KILN_HOME/logs/kiln.log; --verbose prints them here too.`;

export async function worker(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'task-queue': { type: 'string' },
      steps: { type: 'string', multiple: true },
      'no-workflows': { type: 'boolean' },
      verbose: { type: 'boolean' },
    },
  });
  const config = loadConfig();
  print(whereLogsGo(startLogging({ home: config.home, verbose: Boolean(values.verbose) })));
  const { taskQueue, stepModules } = await projectSettings(config, {
    steps: values.steps,
    taskQueue: values['task-queue'],
  });
  const identity = workerIdentity();
  const steps = await startProjectSteps({ home: config.home, taskQueue, identity, modules: stepModules, print });
  const store = await openKilnStore(config, { share: true });
  try {
    const connection = await connectWorker(config);
    try {
      const { running } = await startWorker({
        connection,
        namespace: config.namespace,
        taskQueue,
        artifactsDir: config.artifactsDir,
        store,
        steps: steps.live,
        identity,
        workflows: !values['no-workflows'],
      });
      print(
        `Kiln worker polling '${taskQueue}' on ${config.address} (namespace ${config.namespace}); Ctrl-C stops it.`,
      );
      // Runs Temporal closed without their code recording it (terminated, timed out) are brought up to date.
      const client = await connectClient(config);
      const stopReconciling = reconcileEvery(store, client, {
        onReconciled: (runs) => runs.forEach((r) => print(`Run ${r.runId} was ${r.status} in Temporal; recorded`)),
        onError: (error) =>
          console.error(`kiln worker: reconciling runs with Temporal failed: ${(error as Error).message}`),
      });
      // Signed with a key outside the store, so a rewritten or cut trail shows in `kiln audit verify`.
      const stopCheckpoints = checkpointEvery(store.audit, SYSTEM, checkpointFiles(config.home), {
        onError: (error) =>
          console.error(`kiln worker: signing an audit checkpoint failed: ${(error as Error).message}`),
      });
      try {
        await running;
      } finally {
        await stopReconciling();
        await stopCheckpoints();
        await client.connection.close();
      }
    } finally {
      await connection.close();
    }
  } finally {
    await store.close();
    await steps.close();
  }
  return 0;
}
