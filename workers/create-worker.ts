import { NativeConnection, Worker } from '@temporalio/worker';
import { ArtifactStore } from '../activities/artifacts/store';
import type { StepImpl } from '../activities/library';
import { workflowBundle } from './bundle';
import { catalogActivity, stepActivities, type StepRecorder } from './step-activities';

export const DEFAULT_TASK_QUEUE = 'kiln';

export interface KilnWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  steps: StepImpl[];
  artifactsDir: string;
  recorder?: StepRecorder;
  /** Poll for workflow tasks too (the default); a steps-only worker on a resource queue sets false. */
  workflows?: boolean;
  maxConcurrentActivityTaskExecutions?: number;
  identity?: string;
}

/** A worker that runs the pipeline workflow and the given steps on one task queue. */
export async function createKilnWorker(options: KilnWorkerOptions): Promise<Worker> {
  const artifacts = new ArtifactStore(options.artifactsDir);
  const withWorkflows = options.workflows ?? true;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(withWorkflows ? { workflowBundle: await workflowBundle() } : {}),
    activities: { ...stepActivities(options.steps, { artifacts, recorder: options.recorder }), ...catalogActivity(options.steps) },
    ...(options.maxConcurrentActivityTaskExecutions ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions } : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
}
