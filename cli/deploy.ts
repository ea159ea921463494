import type { Client } from '@temporalio/client';
import { SYSTEM, type Principal, type Store } from '../store';
import { rolloutDecideUpdate, rolloutStatusQuery, type RolloutStatus } from '../workflows';

/** A rollout's workflow id is its run's id and its deploy node's: `<run>/<node>`. */
export const rolloutHandle = (client: Client, rollout: string) => client.workflow.getHandle(rollout);

export function describeRollout(id: string, status: RolloutStatus): string {
  const plan = status.plan;
  const lines = [`rollout ${id}: ${status.state}`];
  if (plan) {
    const how = plan.mode === 'canary' ? `canary ${plan.percent}%` : plan.mode;
    lines.push(
      `  ${plan.model}@${plan.candidate} -> '${plan.alias}' (now ${plan.current ?? 'none'}), ${how}, window ${plan.window}, as ${plan.approver}`,
    );
  }
  const last = status.checks.at(-1);
  if (last) {
    lines.push(
      `  last check ${last.at}: candidate ${last.candidate.requests} requests (p99 ${last.candidate.p99LatencyMs ?? 'n/a'} ms), current ${last.current.requests} (p99 ${last.current.p99LatencyMs ?? 'n/a'} ms), prediction PSI ${last.predictionPsi?.toFixed(4) ?? 'n/a'}`,
    );
    for (const gate of last.gates)
      lines.push(`    ${gate.passed === false ? 'FAILED' : gate.passed ? 'ok' : 'waiting'}  ${gate.reason}`);
  }
  if (status.decision)
    lines.push(`  decision: ${status.decision.outcome} (${status.decision.reason}) by ${status.decision.by}`);
  return lines.join('\n');
}

/**
 * Promotes or aborts a rollout in flight as `principal`: the store checks the role (deploy) and
 * records the request before the rollout hears of it, and the rollout acts only on a request on
 * record, as with gate approvals.
 */
export async function decideRollout(
  client: Client,
  store: Store,
  principal: Principal,
  rollout: string,
  action: 'promote' | 'abort',
): Promise<RolloutStatus> {
  const handle = rolloutHandle(client, rollout);
  const status = await handle.query(rolloutStatusQuery);
  if (status.state !== 'observing')
    throw new Error(`rollout ${rollout} is ${status.state}; only one that is observing takes a decision`);
  const subject = `rollout:${rollout}`;
  await store.access.authorize(principal, 'deploy', subject);
  // Written by the system on the principal's behalf, once the store has checked the principal's role.
  await store.audit.appendAudit(SYSTEM, {
    actor: principal.name,
    action: `deployment.${action}.requested`,
    subject,
    after: { action },
  });
  return handle.executeUpdate(rolloutDecideUpdate, { args: [{ action, by: principal.name }] });
}

/**
 * `kiln rollback`: the alias back to its previous holder and all of its traffic with it, as
 * `principal` (approver role; both moves audited).
 */
export async function rollbackDeployment(store: Store, principal: Principal, model: string, alias: string) {
  const cleared = await store.serving.clearTrafficSplit(principal, model, alias);
  const move = await store.registry.rollback(principal, model, alias);
  return { ...move, cleared };
}
