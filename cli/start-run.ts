import { Client } from '@temporalio/client';
import type { PipelinePlan } from '../dsl';
import { SYSTEM, type Principal, type Store } from '../store';
import { tracingFromEnv, type Tracing } from '../runtime/telemetry';
import { runPipeline } from '../workflows';
import type { RunOptions } from '../workflows/protocol';
import { checkCatalog } from './step-catalog';

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

/**
 * Starts a run as a principal, for `kiln run` and the console alike: the role is checked (a
 * refusal is audited) before anything reaches Temporal, the plan's steps are checked against
 * what the worker runs, and the start is audited as the principal (`run.start` on `run:<id>`,
 * which is where the console reads who started a run).
 */
export async function startRunAs(
  store: Store,
  actor: Principal,
  client: Client,
  taskQueue: string,
  plan: PipelinePlan,
  params: Record<string, unknown>,
  options: Parameters<typeof startRun>[4] & { stepModules?: string[]; kilnHome?: string } = {},
) {
  const { stepModules, kilnHome, ...startOptions } = options;
  await store.access.authorize(actor, 'run.start', `pipeline:${plan.name}`);
  // With KILN_HOME, against the catalogs the running workers advertise there.
  await checkCatalog(plan, taskQueue, stepModules, kilnHome ? { client, home: kilnHome } : undefined);
  const handle = await startRun(client, taskQueue, plan, params, startOptions);
  await store.audit.appendAudit(SYSTEM, {
    actor: actor.name,
    action: 'run.start',
    subject: `run:${handle.workflowId}`,
    after: { pipeline: plan.name, planHash: plan.hash, params },
  });
  return handle;
}
