import { defaultPayloadConverter } from '@temporalio/common';
import { isGrpcDeadlineError, type WorkflowHandle } from '@temporalio/client';
import type { runPipeline } from '../workflows';
import { statusQuery } from '../workflows';
import type { NodeSnapshot, RunSnapshot } from '../workflows/protocol';
import { progressDetails, renderNode } from './render';

export type RunHandle = WorkflowHandle<typeof runPipeline>;

/** A running step as Temporal sees it: its attempt, the last attempt's failure, and its last heartbeat's details. */
export interface PendingStep {
  attempt: number;
  lastFailure?: string;
  details?: unknown;
}

/** The running steps by node id (a step's activity id is its node id), from Temporal's pending activities. */
export async function pendingSteps(handle: RunHandle): Promise<Record<string, PendingStep>> {
  const description = await handle.describe();
  const pending: Record<string, PendingStep> = {};
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    pending[activity.activityId ?? ''] = {
      attempt: activity.attempt ?? 1,
      ...(activity.lastFailure?.message ? { lastFailure: activity.lastFailure.message } : {}),
      ...(payload ? { details: defaultPayloadConverter.fromPayload<unknown>(payload) } : {}),
    };
  }
  return pending;
}

/** Heartbeat details and attempts of running steps, as one line each. */
export async function pendingProgress(handle: RunHandle): Promise<Record<string, string>> {
  const progress: Record<string, string> = {};
  for (const [id, { attempt, lastFailure, details }] of Object.entries(await pendingSteps(handle))) {
    const parts = [];
    if (attempt > 1) parts.push(`attempt ${attempt}${lastFailure ? ` (last: ${lastFailure})` : ''}`);
    if (details && typeof details === 'object')
      parts.push(
        Object.entries(details)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? +v.toFixed(4) : String(v)}`)
          .join(', '),
      );
    progress[id] = parts.join(' ');
  }
  return progress;
}

/**
 * Why a closed run ended, from its close event: the failure's type and message (and its causes),
 * or that Temporal terminated it or timed it out. Undefined while it runs or when it succeeded.
 */
export async function closedReason(handle: RunHandle): Promise<string | undefined> {
  const description = await handle.describe().catch(() => undefined);
  const state = description?.status.name;
  if (!state || state === 'RUNNING' || state === 'CONTINUED_AS_NEW' || state === 'COMPLETED') return undefined;
  if (state === 'TERMINATED') return 'Terminated: the run was terminated in Temporal';
  if (state === 'TIMED_OUT') return 'Timeout: the run passed its execution timeout in Temporal';
  try {
    await handle.result();
    return undefined;
  } catch (error) {
    const parts: string[] = [];
    for (let e: unknown = (error as Error).cause ?? error; e instanceof Error; e = e.cause) {
      const type = (e as { type?: unknown }).type;
      parts.push(typeof type === 'string' && type ? `${type}: ${e.message}` : e.message);
    }
    return parts.join(': ') || state.toLowerCase();
  }
}

const BUSY_FIRST_WAIT_MS = 500;
const BUSY_MAX_WAIT_MS = 5000;

/**
 * The run's status, asked of its worker. A worker too busy to answer in time (the query timed
 * out) is asked again with backoff, calling `onBusy` before each wait, for up to `patienceMs`
 * (by default without end); any other error is thrown.
 */
export async function queryStatus(
  handle: RunHandle,
  options: { onBusy?: (waitMs: number) => void; patienceMs?: number; signal?: AbortSignal } = {},
): Promise<RunSnapshot> {
  const giveUpAt = Date.now() + (options.patienceMs ?? Infinity);
  for (let wait = BUSY_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, BUSY_MAX_WAIT_MS)) {
    try {
      return await handle.query(statusQuery);
    } catch (error) {
      if (!isGrpcDeadlineError(error) || Date.now() + wait > giveUpAt || options.signal?.aborted) throw error;
      options.onBusy?.(wait);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Says once per busy spell that the worker is busy, as `print` lines. */
export function busyNotice(print: (line: string) => void) {
  let told = false;
  return {
    onBusy: () => {
      if (!told) print('  the worker is busy and did not answer in time; asking again until it does');
      told = true;
    },
    answered: () => {
      told = false;
    },
  };
}

/**
 * Polls a run and prints each node's changes as they happen, until the run ends. A worker busy
 * with a heavy step is asked again until it answers: the run goes on meanwhile.
 * `onWaiting` is called once for each gate that starts waiting.
 */
export async function follow(
  handle: RunHandle,
  options: {
    print: (line: string) => void;
    onWaiting?: (node: NodeSnapshot) => void;
    intervalMs?: number;
    signal?: AbortSignal;
  },
): Promise<RunSnapshot> {
  const shown = new Map<string, string>();
  const asked = new Set<string>();
  const busy = busyNotice(options.print);
  for (;;) {
    let status: RunSnapshot;
    try {
      status = await queryStatus(handle, {
        onBusy: busy.onBusy,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      busy.answered();
    } catch (error) {
      // A run that has not yet reached its first workflow task cannot answer queries.
      if (/not found|no poller|did not register|query handler/i.test((error as Error).message)) {
        await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
        continue;
      }
      throw error;
    }
    const progress = progressDetails(
      status,
      status.status === 'running' ? await pendingProgress(handle).catch(() => ({})) : {},
    );
    for (const node of status.nodes) {
      const line = renderNode(node, progress[node.id]);
      const key = `${node.status}|${progress[node.id] ?? ''}|${node.status === 'running' ? '' : line}`;
      if (shown.get(node.id) !== key) {
        shown.set(node.id, key);
        options.print(`  ${line}`);
      }
      if (node.status === 'waiting' && !asked.has(node.id)) {
        asked.add(node.id);
        options.onWaiting?.(node);
      }
    }
    if (status.status !== 'running') return status;
    const description = await handle.describe().catch(() => undefined);
    if (description && description.status.name !== 'RUNNING' && description.status.name !== 'CONTINUED_AS_NEW') {
      return {
        ...status,
        status:
          description.status.name === 'CANCELLED'
            ? 'cancelled'
            : description.status.name === 'COMPLETED'
              ? 'succeeded'
              : 'failed',
      };
    }
    if (options.signal?.aborted) return status;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
