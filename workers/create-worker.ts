import { NativeConnection, Worker } from '@temporalio/worker';
import { ArtifactStore } from '../activities/artifacts/store';
import type { StepImpl } from '../activities/library';
import type { LiveSteps } from './live-steps';
import { workflowBundle } from './bundle';
import type { Store } from '../store';
import { runActivities, stepActivities } from './step-activities';
import { mapValueActivities } from './map-values';
import { storeRecorder } from './store-recorder';
import { rolloutStore } from './rollout-store';
import { rolloutActivities } from '../activities/deploy/rollout';
import { monitorActivities } from '../activities/monitor/monitor';
import { monitorStore } from './monitor-store';
import { tracingFromEnv, type Tracing } from '../runtime/telemetry';

export const DEFAULT_TASK_QUEUE = 'kiln';

export interface KilnWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** The steps to run; `LiveSteps` when they may be replaced while the worker runs (`kiln dev` reloads). */
  steps: StepImpl[] | LiveSteps;
  artifactsDir: string;
  /** Where runs, steps, artifacts and lineage are recorded, and what registry steps use. */
  store?: Store;
  /** Poll for workflow tasks too (the default); a steps-only worker on a resource queue sets false. */
  workflows?: boolean;
  maxConcurrentActivityTaskExecutions?: number;
  identity?: string;
  /** Traces workflows and steps; by default from the OTEL_* environment (workers/telemetry.ts), `false` for none. */
  tracing?: Tracing | false;
}

/** A worker that runs the pipeline workflow and the given steps on one task queue. */
export async function createKilnWorker(options: KilnWorkerOptions): Promise<Worker> {
  const artifacts = new ArtifactStore(options.artifactsDir);
  const withWorkflows = options.workflows ?? true;
  const tracing = options.tracing ?? (await tracingFromEnv('kiln-worker'));
  const recorder = options.store && storeRecorder(options.store, artifacts);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(withWorkflows ? { workflowBundle: await workflowBundle({ traced: Boolean(tracing) }) } : {}),
    activities: {
      ...stepActivities(options.steps, {
        artifacts,
        ...(options.store && recorder ? { store: options.store, recorder } : {}),
      }),
      ...rolloutActivities({
        ...(options.store ? { store: rolloutStore(options.store) } : {}),
        ...(recorder
          ? {
              recorder: {
                started: (request) => recorder.started(request, '', 1),
                succeeded: (request, envelope) => recorder.succeeded(request, '', envelope, []),
              },
            }
          : {}),
      }),
      ...monitorActivities({ artifacts, ...(options.store ? { store: monitorStore(options.store) } : {}) }),
      ...runActivities(options.steps, options.store),
      ...mapValueActivities(artifacts),
    },
    ...(options.maxConcurrentActivityTaskExecutions
      ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions }
      : {}),
    ...(options.identity ? { identity: options.identity } : {}),
    // A step learns of its cancellation only from a heartbeat's answer: send them at least every
    // 3 s (by default up to a minute apart), so a cancelled training stops within seconds.
    maxHeartbeatThrottleInterval: '3s',
    ...(tracing ? tracing.worker : {}),
  });
}
