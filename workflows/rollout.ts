import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { durationMs } from '../dsl/duration';
import { FailureTypes } from '../dsl/failures';
import type { RolloutActivities, RolloutChecks, RolloutPlan } from '../activities/deploy/rollout';
import type { StepEnvelope, StepRequest } from './protocol';

/** What a person can do to a rollout in flight: promote the candidate now, or roll it back. */
export interface RolloutDecision {
  action: 'promote' | 'abort';
  /** The principal, after `kiln deploy` checked the role and recorded the request. */
  by: string;
}

export interface RolloutStatus {
  state: 'starting' | 'observing' | 'promoted' | 'rolled back';
  plan?: RolloutPlan;
  since?: string;
  checks: RolloutChecks[];
  decision?: { outcome: 'promote' | 'rollback'; reason: string; by: string };
}

export const rolloutStatusQuery = wf.defineQuery<RolloutStatus>('kiln.rollout.status');
/** Promote or abort by hand; refused once the rollout has decided. */
export const rolloutDecideUpdate = wf.defineUpdate<RolloutStatus, [RolloutDecision]>('kiln.rollout.decide');

/** Workflow time (replayed from history), in milliseconds. */
const nowMs = () => new Date().getTime();

const deploy = wf.proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2m',
  retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * A rollout, started by a `deploy` step as a child of its run: sets the traffic split, watches the
 * candidate against the current version on durable timers, and promotes it or rolls it back by
 * the declared gates. Every decision is audited with the numbers that drove it, and idempotent.
 */
export async function rollout(request: StepRequest): Promise<StepEnvelope> {
  const status: RolloutStatus = { state: 'starting', checks: [] };
  let manual: RolloutDecision | undefined;
  wf.setHandler(rolloutStatusQuery, () => status);
  wf.setHandler(
    rolloutDecideUpdate,
    (d) => {
      manual = d;
      return status;
    },
    {
      validator: (d) => {
        if (d?.action !== 'promote' && d?.action !== 'abort')
          throw ApplicationFailure.nonRetryable(
            "a rollout decision is 'promote' or 'abort'",
            FailureTypes.InvalidDecision,
          );
        if (typeof d.by !== 'string' || !d.by.trim())
          throw ApplicationFailure.nonRetryable('a rollout decision names who made it', FailureTypes.InvalidDecision);
        if (status.state !== 'observing' || manual)
          throw ApplicationFailure.nonRetryable(
            `the rollout is ${status.state}; it takes no decision now`,
            FailureTypes.InvalidDecision,
          );
      },
    },
  );

  const plan = await deploy['deploy.begin'](request);
  status.plan = plan;
  let outcome: { outcome: 'promote' | 'rollback'; reason: string; by: string; failure?: string };
  if (plan.mode === 'direct' || plan.current === null) {
    const reason =
      plan.mode === 'direct'
        ? 'a direct rollout'
        : `nothing served '${plan.alias}' yet, so nothing to compare the candidate with: promoted at once`;
    outcome = { outcome: 'promote', reason, by: plan.approver };
  } else {
    await deploy['deploy.split'](plan);
    status.state = 'observing';
    status.since = new Date().toISOString();
    const end = nowMs() + durationMs(plan.window)!;
    const every = durationMs(plan.checkEvery)!;
    outcome = { outcome: 'rollback', reason: 'the window ended', by: plan.approver };
    for (;;) {
      const wait = Math.min(every, end - nowMs());
      if (wait > 0) await wf.condition(() => manual !== undefined, wait);
      if (manual && !(await deploy['deploy.confirm'](plan, manual))) {
        manual = undefined;
        continue;
      }
      if (manual) {
        outcome =
          manual.action === 'promote'
            ? { outcome: 'promote', reason: `promoted by hand by ${manual.by}`, by: manual.by }
            : {
                outcome: 'rollback',
                reason: `aborted by ${manual.by}`,
                by: manual.by,
                failure: FailureTypes.RolloutAborted,
              };
        break;
      }
      const checks = await deploy['deploy.measure'](plan, status.since);
      status.checks.push(checks);
      if (status.checks.length > 50) status.checks.shift();
      const failed = checks.gates.find((g) => g.passed === false);
      if (failed) {
        outcome = {
          outcome: 'rollback',
          reason: failed.reason,
          by: plan.approver,
          failure: FailureTypes.RolloutGateFailed,
        };
        break;
      }
      if (nowMs() >= end) {
        // `?? 0`: checks measured before errors were counted, replayed from a rollout's history.
        const seen = checks.candidate.requests + (checks.candidate.errors ?? 0);
        outcome =
          seen >= plan.minRequests
            ? { outcome: 'promote', reason: `every gate held for ${plan.window}`, by: plan.approver }
            : {
                outcome: 'rollback',
                reason: `the candidate saw ${seen} requests in ${plan.window}, fewer than the ${plan.minRequests} needed to judge it`,
                by: plan.approver,
                failure: FailureTypes.RolloutGateFailed,
              };
        break;
      }
    }
  }
  const last = status.checks.at(-1);
  const done = await deploy['deploy.decide'](plan, {
    outcome: outcome.outcome,
    reason: outcome.reason,
    by: outcome.by,
    ...(last ? { checks: last } : {}),
  });
  status.decision = { outcome: outcome.outcome, reason: outcome.reason, by: outcome.by };
  status.state = outcome.outcome === 'promote' ? 'promoted' : 'rolled back';
  if (outcome.outcome === 'rollback') {
    throw ApplicationFailure.nonRetryable(
      `rollout of ${plan.model}@${plan.candidate} to '${plan.alias}' rolled back: ${outcome.reason}`,
      outcome.failure ?? FailureTypes.RolloutGateFailed,
      { checks: last ?? null },
    );
  }
  const output = {
    name: plan.model,
    alias: plan.alias,
    version: plan.candidate,
    previous: done.previous,
    decision: manual ? ('promoted by hand' as const) : ('promoted' as const),
    reason: outcome.reason,
    by: outcome.by,
  };
  return deploy['deploy.finish'](request, output);
}
