import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import type { StepImpl } from '../activities/library';
import { builtinSteps } from '../activities';
import { createKilnWorker } from './create-worker';
import type { Store } from '../store';

/** Loads extra step implementations from a module whose default export is a list of them. */
export async function loadSteps(file: string): Promise<StepImpl[]> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  const steps = mod.default;
  if (!Array.isArray(steps) || !steps.every((s) => s && typeof s === 'object' && 'def' in s && 'run' in s)) {
    throw new Error(`${file} must export default a list of step implementations (implement(def, fn))`);
  }
  return steps as StepImpl[];
}

/** Starts a worker with the built-in steps and any extra ones; Temporal's runtime stops it gracefully on SIGINT/SIGTERM. */
export async function startWorker(options: {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  artifactsDir: string;
  extraSteps?: StepImpl[];
  store?: Store;
  workflows?: boolean;
}) {
  const worker = await createKilnWorker({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    steps: [...builtinSteps, ...(options.extraSteps ?? [])],
    artifactsDir: options.artifactsDir,
    ...(options.store ? { store: options.store } : {}),
    ...(options.workflows !== undefined ? { workflows: options.workflows } : {}),
  });
  return { worker, running: worker.run() };
}
