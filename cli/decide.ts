import type { WorkflowHandle } from '@temporalio/client';
import type { Principal, Store } from '../store';
import { approveUpdate, statusQuery } from '../workflows';
import type { KilnConfig } from '../runtime/config';
import { caller, withStore } from './store';

/** A decision for a gate the run is not waiting at (unknown, already decided, not reached yet). */
export class GateNotWaitingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GateNotWaitingError';
  }
}

/** How a command reaches the store and says who is deciding (a --token, else the usual places). */
export interface Approver {
  config: KilnConfig;
  token?: string;
  print: (line: string) => void;
}

/**
 * Approves or rejects a gate as the authenticated caller: a caller without the role is refused
 * before the run hears of it (and the refusal is audited). The decision is recorded before it
 * is sent, because that record is what steps acting on an approval (registry.setAlias) trust:
 * the name in the run's own decision is only what a client sent. The store is opened only for
 * the decision, so a command waiting at a gate never holds it. Returns who decided.
 */
export function decide(
  handle: WorkflowHandle,
  approver: Approver,
  gate: string,
  approved: boolean,
  comment?: string,
): Promise<string> {
  return withStore(approver.config, async (store) => {
    const principal = await caller(store, approver.config, approver.print, approver.token);
    await recordAndSend(handle, store, principal, gate, approved, comment);
    return principal.name;
  });
}

/** Records a principal's decision at a gate (checking the role), then sends it to the run. */
export async function recordAndSend(
  handle: WorkflowHandle,
  store: Store,
  principal: Principal,
  gate: string,
  approved: boolean,
  comment?: string,
): Promise<void> {
  const status = await handle.query(statusQuery);
  const node = status.nodes.find((n) => n.id === gate);
  if (node?.type !== 'approval' || node.status !== 'waiting') {
    const waiting = status.nodes.filter((n) => n.type === 'approval' && n.status === 'waiting').map((n) => n.id);
    throw new GateNotWaitingError(
      `run ${handle.workflowId} has no gate '${gate}' waiting for a decision${node ? ` (it is ${node.status})` : ''}; ${waiting.length ? `waiting: ${waiting.join(', ')}` : 'no gate waits now'}`,
    );
  }
  const decision = { gate, approved, ...(comment ? { comment } : {}) };
  await store.decisions.recordDecision(principal, {
    runId: handle.workflowId,
    ...decision,
    ...(node?.gate?.show ? { shown: node.gate.show } : {}),
  });
  try {
    await handle.executeUpdate(approveUpdate, {
      args: [{ ...decision, by: principal.name }],
    });
  } catch (error) {
    // The record stands (the trail is append-only); the trail says the run never took it.
    await store.decisions.recordUndelivered(
      principal,
      { runId: handle.workflowId, ...decision },
      (error as Error).message,
    );
    throw new Error(
      `the decision is on record but the run did not take it (${(error as Error).message}); the audit trail says so`,
      { cause: error },
    );
  }
}
