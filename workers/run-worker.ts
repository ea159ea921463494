import { join } from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type { StepImpl } from '../activities/library';
import { builtinSteps } from '../activities';
import { createKilnWorker } from './create-worker';
import type { LiveSteps } from './live-steps';
import { loadStepModule } from './step-modules';
import { loadConfig } from '../runtime/config';
import type { Store } from '../store';

/** Where a worker keeps the bundles of the step modules it loads: under KILN_HOME. */
export const stepBundleDir = (home = loadConfig().home) => join(home, 'steps');

/** Loads extra step implementations from a module whose default export is a list of them. */
export async function loadSteps(file: string, bundleDir = stepBundleDir()): Promise<StepImpl[]> {
  return (await loadStepModule(file, bundleDir)).steps;
}

/** Starts a worker with the built-in steps and any extra ones; Temporal's runtime stops it gracefully on SIGINT/SIGTERM. */
export async function startWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  artifactsDir: string;
  extraSteps?: StepImpl[];
  /** Replaceable steps (`kiln dev` reloads edited modules); the built-ins and `extraSteps` when absent. */
  steps?: LiveSteps;
  store?: Store;
  workflows?: boolean;
  identity?: string;
}) {
  const worker = await createKilnWorker({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    steps: options.steps ?? [...builtinSteps, ...(options.extraSteps ?? [])],
    artifactsDir: options.artifactsDir,
    ...(options.store ? { store: options.store } : {}),
    ...(options.workflows !== undefined ? { workflows: options.workflows } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  return { worker, running: worker.run() };
}
