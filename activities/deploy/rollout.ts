import { ApplicationFailure } from '@temporalio/common';
import { durationMs } from '../../dsl/duration';
import { FailureTypes } from '../../dsl/failures';
import type { StepEnvelope, StepRequest } from '../../workflows/protocol';
import { numericBinning, histogram, psi } from '../common/metrics/psi';
import { quantile } from '../common/metrics/quantile';
import type { RolloutStore } from './rollout-store';
import { deploy, type RolloutGate } from './steps';

/** A rollout as decided at its start: what moves where, how, watched by which gates, as whom. */
export interface RolloutPlan {
  /** The rollout's workflow id, written into the traffic split and the audit trail. */
  rollout: string;
  model: string;
  alias: string;
  candidate: number;
  /** The alias's holder when the rollout began (null: nothing serves the alias yet). */
  current: number | null;
  mode: 'direct' | 'canary' | 'shadow';
  percent: number;
  window: string;
  checkEvery: string;
  minRequests: number;
  gates: RolloutGate[];
  /** The approver on record for the run's gate: the alias moves as this principal. */
  approver: string;
}

export interface VersionStats {
  version: number | null;
  /** Requests answered (logged predictions). */
  requests: number;
  /** Requests the version failed to score. */
  errors: number;
  p99LatencyMs: number | null;
}

/** One look at the candidate against the current version, and each gate's verdict on it. */
export interface RolloutChecks {
  at: string;
  current: VersionStats;
  candidate: VersionStats;
  predictionPsi: number | null;
  /** The candidate's errors / (requests + errors); null before it saw any. */
  errorRate: number | null;
  /** `passed: null` while the candidate has answered too few requests to judge. */
  gates: Array<{
    metric: RolloutGate['metric'];
    max: number;
    value: number | null;
    passed: boolean | null;
    reason: string;
  }>;
}

export interface RolloutOutcome {
  outcome: 'promote' | 'rollback';
  reason: string;
  by: string;
  checks?: RolloutChecks;
}

/** How the rollout records its step: the worker's recorder, as for any step. */
export interface RolloutRecorder {
  started(request: StepRequest): Promise<void>;
  succeeded(request: StepRequest, envelope: StepEnvelope): Promise<void>;
}

const p99 = (values: number[]) =>
  values.length
    ? quantile(
        [...values].sort((a, b) => a - b),
        0.99,
      )
    : null;

// Quintiles, not deciles: the canary's first checks see tens of requests, where sparse bins make PSI noise.
const SHIFT_BINS = 5;

/** The PSI of the candidate's first-class probabilities against the current version's, in the current's quintiles. */
function predictionShift(current: number[], candidate: number[]): number | null {
  if (current.length === 0 || candidate.length === 0) return null;
  const binning = numericBinning(current, SHIFT_BINS);
  return psi(binning.labels, histogram(binning, current), histogram(binning, candidate)).psi;
}

const deployment = (plan: RolloutPlan) => ({
  rollout: plan.rollout,
  model: plan.model,
  version: plan.candidate,
  alias: plan.alias,
  mode: plan.mode,
});

/** What a gate reads from one look. */
function gateValue(
  metric: RolloutGate['metric'],
  p99LatencyMs: number | null,
  predictionPsi: number | null,
  errorRate: number | null,
): number | null {
  switch (metric) {
    case 'p99LatencyMs':
      return p99LatencyMs;
    case 'predictionPsi':
      return predictionPsi;
    case 'errorRate':
      return errorRate;
  }
}

/** The activities of workflows/rollout.ts. `store` is absent on a worker without one: rollouts then fail clearly. */
export const rolloutActivities = (deps: { store?: RolloutStore; recorder?: RolloutRecorder }) => {
  const need = () => {
    if (!deps.store)
      throw ApplicationFailure.nonRetryable(
        'deploy.rollout needs a store (the registry and the traffic split); start the worker with one',
        FailureTypes.StoreRequired,
      );
    return deps.store;
  };
  return {
    /** Checks the step's input and the approval on record, records the step's start, and fixes the plan. */
    async 'deploy.begin'(request: StepRequest): Promise<RolloutPlan> {
      const store = need();
      const parsed = deploy.input.safeParse(request.input);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `step '${request.context.node}' (deploy.rollout): invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          FailureTypes.InvalidInput,
        );
      const input = parsed.data;
      if (!input.approval.approved)
        throw ApplicationFailure.nonRetryable(
          `deploy.rollout: the approval given was a rejection by ${input.approval.by}; nothing is rolled out`,
          FailureTypes.ApprovalRejected,
        );
      const approver = await store.approverOnRecord(request.context.workflowId, input.approval);
      await store.requireVersion(input.name, input.version);
      await deps.recorder?.started(request);
      const strategy = input.strategy;
      const observed = 'canary' in strategy ? strategy.canary : 'shadow' in strategy ? strategy.shadow : undefined;
      const window = observed?.window ?? '0s';
      return {
        rollout: `${request.context.workflowId}/${request.context.node}`,
        model: input.name,
        alias: input.alias,
        candidate: input.version,
        current: await store.currentVersion(input.name, input.alias),
        mode: 'canary' in strategy ? 'canary' : 'shadow' in strategy ? 'shadow' : 'direct',
        percent: 'canary' in strategy ? strategy.canary.percent : 100,
        window,
        checkEvery: observed?.checkEvery ?? `${Math.max(1, Math.round(durationMs(window)! / 5))}ms`,
        minRequests: observed?.minRequests ?? 0,
        gates: observed?.gates ?? [],
        approver,
      };
    },

    /** Sends the canary share to the candidate, or mirrors traffic to it (idempotent: it replaces the split). */
    async 'deploy.split'(plan: RolloutPlan): Promise<void> {
      if (plan.mode === 'direct') return;
      const store = need();
      await store.recordDeployment({ ...deployment(plan), status: 'observing', by: plan.approver });
      await store.setSplit({
        model: plan.model,
        alias: plan.alias,
        mode: plan.mode,
        candidate: plan.candidate,
        percent: plan.percent,
        rollout: plan.rollout,
        by: plan.approver,
      });
    },

    /** Reads the prediction log since the rollout began and judges each gate. */
    async 'deploy.measure'(plan: RolloutPlan, since: string): Promise<RolloutChecks> {
      const store = need();
      const [current, candidate, currentErrors, candidateErrors] = await Promise.all([
        plan.current === null ? Promise.resolve([]) : store.predictions(plan.model, plan.current, since),
        store.predictions(plan.model, plan.candidate, since),
        plan.current === null ? Promise.resolve(0) : store.errors(plan.model, plan.current, since),
        store.errors(plan.model, plan.candidate, since),
      ]);
      const stats = (version: number | null, rows: typeof current, errors: number): VersionStats => ({
        version,
        requests: new Set(rows.map((r) => r.requestId)).size,
        errors,
        p99LatencyMs: p99(rows.map((r) => r.latencyMs)),
      });
      const checks = {
        current: stats(plan.current, current, currentErrors),
        candidate: stats(plan.candidate, candidate, candidateErrors),
      };
      const seen = checks.candidate.requests + checks.candidate.errors;
      const errorRate = seen === 0 ? null : checks.candidate.errors / seen;
      const shift = predictionShift(
        current.map((r) => r.probability),
        candidate.map((r) => r.probability),
      );
      // A failed request counts toward judging: a candidate that fails everything is judged too.
      const judgeable = seen >= plan.minRequests;
      const gates = plan.gates.map((gate) => {
        const value = gateValue(gate.metric, checks.candidate.p99LatencyMs, shift, errorRate);
        const passed = !judgeable || value === null ? null : value <= gate.max;
        const shown = value === null ? 'n/a' : value.toFixed(gate.metric === 'p99LatencyMs' ? 2 : 4);
        const reason =
          passed === null
            ? `${gate.metric}: waiting for ${plan.minRequests} candidate requests (${seen} so far)`
            : `${gate.metric} ${shown} ${passed ? '<=' : '>'} ${gate.max}`;
        return { metric: gate.metric, max: gate.max, value, passed, reason };
      });
      return { at: new Date().toISOString(), ...checks, predictionPsi: shift, errorRate, gates };
    },

    /**
     * Whether a decision by hand counts: only one `kiln deploy` recorded after checking the role.
     * One sent straight to Temporal is refused and audited, and the rollout goes on.
     */
    async 'deploy.confirm'(plan: RolloutPlan, decision: { action: 'promote' | 'abort'; by: string }): Promise<boolean> {
      const store = need();
      if (await store.requestOnRecord(plan.rollout, decision.action, decision.by)) return true;
      await store.audit(decision.by, 'access.denied', `rollout:${plan.rollout}`, {
        action: `deployment.${decision.action}`,
        reason: 'no request on record; decide with `kiln deploy`, which checks the role',
      });
      return false;
    },

    /** Promotes the candidate (the alias moves as `by`) or rolls it back; either way the split goes. Audited with the numbers. */
    async 'deploy.decide'(plan: RolloutPlan, decision: RolloutOutcome): Promise<{ previous: number | null }> {
      const store = need();
      let previous = plan.current;
      if (decision.outcome === 'promote')
        previous = (await store.promote(plan.model, plan.candidate, plan.alias, decision.by)).previous;
      await store.clearSplit(plan.model, plan.alias, decision.by);
      await store.recordDeployment({
        ...deployment(plan),
        status: decision.outcome === 'promote' ? 'promoted' : 'rolled back',
        by: decision.by,
        details: { reason: decision.reason },
      });
      await store.audit(decision.by, `deployment.${decision.outcome}`, `model:${plan.model}#${plan.alias}`, {
        rollout: plan.rollout,
        candidate: plan.candidate,
        current: plan.current,
        mode: plan.mode,
        reason: decision.reason,
        checks: decision.checks ?? null,
      });
      return { previous };
    },

    /** Records the step's success, as the activity wrapper does for any step. */
    async 'deploy.finish'(request: StepRequest, output: Record<string, unknown>): Promise<StepEnvelope> {
      const envelope: StepEnvelope = { output: deploy.output.parse(output) as Record<string, unknown>, attempt: 1 };
      await deps.recorder?.succeeded(request, envelope);
      return envelope;
    },
  };
};
export type RolloutActivities = ReturnType<typeof rolloutActivities>;
