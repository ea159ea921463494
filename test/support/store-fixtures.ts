import { createHash } from 'node:crypto';
import { planHash } from '../../dsl/compile';
import type { PipelinePlan } from '../../dsl/plan';
import type { Store } from '../../store/db';
import { SYSTEM } from '../../store/access';

export const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A minimal valid plan object, hashed by its content as `compile` does. */
export function fakePlan(name: string, version = '1.0.0'): PipelinePlan {
  const body = {
    kind: 'kiln.plan' as const,
    formatVersion: 1 as const,
    name,
    version,
    params: {},
    nodes: [],
    defaults: {},
  };
  return { ...body, hash: planHash(body) };
}

export async function startRun(store: Store, runId: string, plan = fakePlan('test-pipeline')) {
  return store.runs.recordRunStart(SYSTEM, {
    runId,
    workflowId: `wf-${runId}`,
    temporalRunId: `t-${runId}`,
    plan,
    params: { seed: 1 },
    code: { commit: 'abc1234def', dirty: false },
  });
}

/** Runs one step through start, artifacts, lineage and finish, the way the activity wrapper will. */
export async function runStep(
  store: Store,
  runId: string,
  nodeId: string,
  name: string,
  inputs: Record<string, string>,
  outputs: Record<string, { sha256: string; kind: string }>,
  options: { attempts?: number; cacheKey?: string } = {},
) {
  for (let attempt = 1; attempt <= (options.attempts ?? 1); attempt++) {
    await store.steps.recordStepStart(SYSTEM, {
      runId,
      nodeId,
      step: { name, version: '1' },
      attempt,
      ...(options.cacheKey ? { cacheKey: options.cacheKey } : {}),
    });
  }
  return store.steps.recordStepFinish(SYSTEM, {
    runId,
    nodeId,
    status: 'succeeded',
    attempt: options.attempts ?? 1,
    output: Object.fromEntries(Object.entries(outputs).map(([port, a]) => [port, { kind: a.kind, sha256: a.sha256 }])),
    artifacts: Object.values(outputs).map((a) => ({ ...a, size: 100 })),
    lineage: {
      inputs: Object.entries(inputs).map(([port, sha256]) => ({ sha256, port })),
      outputs: Object.entries(outputs).map(([port, a]) => ({ sha256: a.sha256, port })),
    },
  });
}
