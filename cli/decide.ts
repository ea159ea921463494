import type { WorkflowHandle } from '@temporalio/client';
import { approveUpdate } from '../workflows';
import type { KilnConfig } from './config';
import { caller, withStore } from './store';

/** How a command reaches the store and says who is deciding (a --token, else the usual places). */
export interface Approver {
  config: KilnConfig;
  token?: string;
  print: (line: string) => void;
}

/**
 * Approves or rejects a gate as the authenticated caller: a caller without the role is refused
 * before the run hears of it (and the refusal is audited); the decision is recorded once the
 * run has accepted it. The store is opened only for the decision, so a command waiting at a
 * gate never holds it. Returns who decided.
 */
export function decide(handle: WorkflowHandle, approver: Approver, gate: string, approved: boolean, comment?: string): Promise<string> {
  return withStore(approver.config, async (store) => {
    const principal = await caller(store, approver.config, approver.print, approver.token);
    await store.authorize(principal, approved ? 'gate.approve' : 'gate.reject', `run:${handle.workflowId}#${gate}`);
    const state = await handle.executeUpdate(approveUpdate, { args: [{ gate, approved, by: principal.name, ...(comment ? { comment } : {}) }] });
    await store.recordDecision({
      runId: handle.workflowId,
      gate,
      decision: approved ? 'approved' : 'rejected',
      by: principal,
      ...(comment ? { reason: comment } : {}),
      ...(state.gate?.show ? { shown: state.gate.show } : {}),
    });
    return principal.name;
  });
}
