import { Client } from '@temporalio/client';
import type { PipelinePlan } from '../dsl';
import { tracingFromEnv, type Tracing } from '../runtime/telemetry';
import { runPipeline } from '../workflows';
import type { RunOptions } from '../workflows/protocol';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

/**
 * Starts a run of a plan; the workflow id names the pipeline and the time. With tracing (by
 * default from the OTEL_* environment, workers/telemetry.ts) the start is the root span of the
 * run's trace, flushed before returning so that a short-lived CLI does not lose it.
 */
export async function startRun(
  client: Client,
  taskQueue: string,
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: RunOptions & { workflowId?: string; tracing?: Tracing | false } = {},
) {
  const { workflowId, tracing: given, ...runOptions } = options;
  const tracing = given ?? (await tracingFromEnv('kiln-cli'));
  const starter = tracing
    ? new Client({
        connection: client.connection,
        namespace: client.options.namespace,
        identity: client.options.identity,
        interceptors: { workflow: tracing.client },
      })
    : client;
  const handle = await starter.workflow.start(runPipeline, {
    taskQueue,
    workflowId: workflowId ?? `${plan.name}-${stamp()}-${Math.random().toString(36).slice(2, 6)}`,
    args: [{ plan, params, options: runOptions }],
    memo: { pipeline: plan.name, planHash: plan.hash },
    // The workflow id is Kiln's run id: never reused, even once the run has closed.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: `Kiln pipeline ${plan.name} (plan ${plan.hash.slice(0, 12)})`,
  });
  if (!tracing) return handle;
  await tracing.flush();
  // Following a run polls its status; through the untraced client those polls make no spans.
  const { firstExecutionRunId } = handle;
  return Object.assign(
    client.workflow.getHandle<typeof runPipeline>(handle.workflowId, undefined, { firstExecutionRunId }),
    { firstExecutionRunId },
  );
}
