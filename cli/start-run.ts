import type { Client } from '@temporalio/client';
import type { PipelinePlan } from '../dsl';
import { runPipeline } from '../workflows';
import type { RunOptions } from '../workflows/protocol';

const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');

/** Starts a run of a plan; the workflow id names the pipeline and the time. */
export function startRun(client: Client, taskQueue: string, plan: PipelinePlan, params: Record<string, unknown>, options: RunOptions & { workflowId?: string } = {}) {
  const { workflowId, ...runOptions } = options;
  return client.workflow.start(runPipeline, {
    taskQueue,
    workflowId: workflowId ?? `${plan.name}-${stamp()}-${Math.random().toString(36).slice(2, 6)}`,
    args: [{ plan, params, options: runOptions }],
    memo: { pipeline: plan.name, planHash: plan.hash },
    staticSummary: `Kiln pipeline ${plan.name} (plan ${plan.hash.slice(0, 12)})`,
  });
}
