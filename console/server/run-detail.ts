import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { dependencies, type Binding, type PipelinePlan, type PlanNode } from '../../dsl';
import type { NodeState, StepState } from '../../dsl/states';
import type { Principal, Run, Store } from '../../store';
import { runPipeline, statusQuery } from '../../workflows';
import { closedState } from '../../workers/reconcile';
import type { NodeSnapshot, RunInput, RunSnapshot } from '../../workflows/protocol';
import { pendingSteps, type PendingStep } from '../../cli/follow';
import { mapCounts } from '../../cli/render';
import type { ArtifactRef, GraphNode, NodeDetail, RunDetail, RunSummary } from '../api';
import { ApiInputError } from './errors';

export interface TemporalLinks {
  uiUrl: string;
  namespace: string;
}

const firstStep = (nodes: PlanNode[]): string => {
  for (const node of nodes) {
    if (node.type === 'step') return node.step.name;
    if (node.type === 'map') return firstStep(node.nodes);
  }
  return 'map';
};

/** The plan's top-level DAG: a map's body is one node (the console shows `n of m done` on it). */
function planGraph(plan: PipelinePlan): RunDetail['graph'] {
  const scope = new Set(plan.nodes.map((n) => n.id));
  const nodes: GraphNode[] = plan.nodes.map((node) => {
    switch (node.type) {
      case 'step':
        return { id: node.id, step: node.step.name, kind: 'step', label: node.id };
      case 'approval':
        return { id: node.id, step: node.gate, kind: 'approval', label: `approval: ${node.gate}` };
      case 'map':
        return { id: node.id, step: firstStep(node.nodes), kind: 'map', label: `${node.id} (map)` };
    }
  });
  const edges = plan.nodes.flatMap((node) => dependencies(node, scope).map((from) => ({ from, to: node.id })));
  return { nodes, edges };
}

export function runSummary(run: Run & { startedBy?: string | null }, now = Date.now()): RunSummary {
  return {
    runId: run.id,
    pipeline: run.pipelineName,
    state: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    durationMs: (run.finishedAt?.getTime() ?? now) - run.startedAt.getTime(),
    startedBy: run.startedBy ?? null,
    scheduleId: run.scheduleId,
  };
}

/** Every artifact reference (`{ kind, uri, sha256 }`) inside a step's output. */
export function artifactRefs(value: unknown, found: ArtifactRef[] = []): ArtifactRef[] {
  if (Array.isArray(value)) for (const v of value) artifactRefs(v, found);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.sha256 === 'string' && typeof o.kind === 'string' && typeof o.uri === 'string')
      found.push({ id: o.sha256, kind: o.kind, sha256: o.sha256 });
    else for (const v of Object.values(o)) artifactRefs(v, found);
  }
  return found;
}

const at = (value: unknown, path: string[]): unknown =>
  path.reduce<unknown>(
    (v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
    value,
  );

/** A step's inputs as it was given them: literals, parameters and the outputs of the nodes it reads. */
function resolveBinding(binding: Binding, outputs: Map<string, unknown>, params: Record<string, unknown>): unknown {
  switch (binding.kind) {
    case 'literal':
      return binding.value;
    case 'source': {
      const s = binding.source;
      if (s.kind === 'ref') return at(outputs.get(s.node), s.path);
      if (s.kind === 'param') return at(params[s.name], s.path);
      return undefined;
    }
    case 'object':
      return Object.fromEntries(
        Object.entries(binding.fields).map(([k, b]) => [k, resolveBinding(b, outputs, params)]),
      );
    case 'array':
      return binding.items.map((b) => resolveBinding(b, outputs, params));
  }
}

// A recorded step's state as a live node's: a cache hit succeeded without running.
const recordedState: Record<StepState, NodeState> = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  cached: 'succeeded',
  skipped: 'skipped',
};

function liveNode(
  plan: PlanNode,
  node: NodeSnapshot | undefined,
  snapshot: RunSnapshot,
  outputs: Map<string, unknown>,
  params: Record<string, unknown>,
  pending: PendingStep | undefined,
): NodeDetail {
  const counts = node ? mapCounts(node, snapshot.nodes) : undefined;
  return {
    state: node?.status ?? 'pending',
    attempts: pending?.attempt ?? node?.attempts ?? 0,
    ...(node?.error ? { error: { type: node.error.type, message: node.error.message } } : {}),
    startedAt: node?.startedAt ?? null,
    finishedAt: node?.finishedAt ?? null,
    ...(pending?.details !== undefined ? { progress: pending.details } : {}),
    ...(plan.type === 'step'
      ? {
          inputs: Object.fromEntries(
            Object.entries(plan.inputs).map(([k, b]) => [k, resolveBinding(b, outputs, params)]),
          ),
        }
      : {}),
    ...(node?.output !== undefined ? { outputs: node.output } : {}),
    artifacts: artifactRefs(node?.output),
    ...(node?.cached ? { cachedFrom: node.cached } : {}),
    ...(counts ? { mapped: { done: counts.done, total: counts.total } } : {}),
    ...(node?.gate
      ? {
          gate: {
            show: node.gate.show,
            waitingSince: node.gate.since ?? null,
            ...(node.gate.decision
              ? {
                  decision: {
                    approved: node.gate.decision.approved,
                    by: node.gate.decision.by,
                    ...(node.gate.decision.comment ? { comment: node.gate.decision.comment } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
}

// A page waits this long for a run's worker to answer; Temporal's own wait is much longer.
const QUERY_DEADLINE_MS = 3000;

/**
 * The run's live status, or undefined when no worker answers in time (a closed run whose worker
 * is gone, a run not yet at its first workflow task, a busy worker): the store's record stands in.
 */
export async function liveStatus(client: Client, workflowId: string): Promise<RunSnapshot | undefined> {
  try {
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
      client.workflow.getHandle<typeof runPipeline>(workflowId).query(statusQuery),
    );
  } catch {
    // Whatever the reason, the answer is the same: no live status to show now.
    return undefined;
  }
}

/**
 * A run Temporal has but the store does not (yet): its worker records the start as the run
 * begins, a moment after the console started it. The plan and parameters are the workflow's input.
 */
async function fromTemporal(client: Client, runId: string): Promise<{ run: Run; plan: PipelinePlan }> {
  const handle = client.workflow.getHandle<typeof runPipeline>(runId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError)
      throw new ApiInputError(
        `run '${runId}' is not in the store or in Temporal; see GET /api/runs for the runs there are`,
        404,
      );
    throw error;
  });
  const history = await handle.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = payload ? defaultPayloadConverter.fromPayload<RunInput>(payload) : undefined;
  if (description.type !== runPipeline.name || !input?.plan)
    throw new ApiInputError(`'${runId}' is a ${description.type} workflow, not a Kiln run`, 404);
  return {
    plan: input.plan,
    run: {
      id: runId,
      workflowId: runId,
      temporalRunId: description.runId,
      pipelineName: input.plan.name,
      planHash: input.plan.hash,
      status: closedState(description.status.name) ?? 'running',
      params: input.params ?? {},
      codeCommit: null,
      codeDirty: null,
      startedAt: description.startTime,
      finishedAt: description.closeTime ?? null,
      errorType: null,
      errorMessage: null,
      scheduleId: input.schedule ?? null,
    },
  };
}

/**
 * A run as the console shows it: the plan's DAG with each node's live state from the workflow's
 * status query (and heartbeat progress from Temporal), falling back to the store's step records
 * when no worker answers.
 */
export async function runDetail(
  store: Store,
  client: Client,
  actor: Principal,
  runId: string,
  links: TemporalLinks,
): Promise<RunDetail> {
  const recorded = await store.runs.getRun(actor, runId);
  const stored = recorded && (await store.runs.getPlan(actor, recorded.planHash));
  const { run, plan } = recorded && stored ? { run: recorded, plan: stored } : await fromTemporal(client, runId);
  const handle = client.workflow.getHandle<typeof runPipeline>(run.workflowId);
  const snapshot = await liveStatus(client, run.workflowId);
  const startedBy = await store.runs.startedBy(actor, runId);
  const nodes: Record<string, NodeDetail> = {};
  if (snapshot) {
    const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
    const outputs = new Map(snapshot.nodes.map((n) => [n.id, n.output]));
    const pending: Record<string, PendingStep> =
      snapshot.status === 'running' ? await pendingSteps(handle).catch(() => ({})) : {};
    for (const node of plan.nodes)
      nodes[node.id] = liveNode(node, byId.get(node.id), snapshot, outputs, run.params, pending[node.id]);
  } else {
    const steps = new Map((await store.steps.listSteps(actor, runId)).map((s) => [s.nodeId, s]));
    for (const node of plan.nodes) {
      const step = steps.get(node.id);
      nodes[node.id] = {
        state: step ? recordedState[step.status] : 'pending',
        attempts: step?.attempts ?? 0,
        ...(step?.errorMessage ? { error: { type: step.errorType ?? 'Error', message: step.errorMessage } } : {}),
        startedAt: step?.startedAt.toISOString() ?? null,
        finishedAt: step?.finishedAt?.toISOString() ?? null,
        ...(step?.output != null ? { outputs: step.output } : {}),
        artifacts: artifactRefs(step?.output),
      };
    }
  }
  const state = run.status === 'running' && snapshot && snapshot.status !== 'running' ? snapshot.status : run.status;
  const error = run.errorMessage
    ? { type: run.errorType ?? 'Error', message: run.errorMessage }
    : snapshot?.error
      ? {
          type: snapshot.error.type,
          message: snapshot.error.message,
          ...(snapshot.error.node ? { node: snapshot.error.node } : {}),
        }
      : null;
  return {
    run: {
      ...runSummary({ ...run, status: state, startedBy }),
      params: run.params,
      planHash: run.planHash,
      error,
    },
    graph: planGraph(plan),
    nodes,
    temporalUrl: `${links.uiUrl}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(run.workflowId)}${run.temporalRunId ? `/${encodeURIComponent(run.temporalRunId)}/history` : ''}`,
  };
}
