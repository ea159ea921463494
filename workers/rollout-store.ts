import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../dsl/failures';
import type { RolloutStore } from '../activities/deploy/rollout-store';
import { SYSTEM, type Principal, type Store } from '../store';

/**
 * The store as a rollout sees it. The worker reads as the system; every move (split, alias,
 * audit) is made as the approver the store has on record for the run's gate, with that
 * principal's current role, never as a name the workflow was handed.
 */
export function rolloutStore(store: Store): RolloutStore {
  const principal = (name: string): Promise<Principal> => store.access.principalByName(SYSTEM, name);
  return {
    async approverOnRecord(run, approval) {
      // A rollout runs as a child of the run: the plan its approval must be for is the run's on record.
      const plan = (await store.runs.getRun(SYSTEM, run))?.planHash ?? '';
      const approver = await store.decisions.approverOf(SYSTEM, run, approval.gate, plan);
      if (!approver || approver.name !== approval.by) {
        await store.audit.appendAudit(SYSTEM, {
          actor: approval.by,
          action: 'access.denied',
          subject: `run:${run}#${approval.gate}`,
          after: { action: 'deploy', reason: 'no approval on record for this run' },
        });
        throw ApplicationFailure.nonRetryable(
          `deploy.rollout: no approval by ${approval.by} at gate '${approval.gate}' is on record for run ${run}; approvals count when given with \`kiln approve\``,
          FailureTypes.AccessDenied,
          { who: approval.by, action: 'deploy' },
        );
      }
      return approver.name;
    },
    async requireVersion(model, version) {
      await store.registry.getModelVersion(SYSTEM, model, version);
    },
    async currentVersion(model, alias) {
      const served = await store.serving.servedVersions(SYSTEM, model, alias);
      return served?.current ?? null;
    },
    async setSplit({ by, ...split }) {
      await store.serving.setTrafficSplit(await principal(by), split);
    },
    async clearSplit(model, alias, by) {
      await store.serving.clearTrafficSplit(await principal(by), model, alias);
    },
    async recordDeployment({ rollout, model, version, alias, mode, status, by, details }) {
      await store.decisions.recordDeployment(await principal(by), {
        key: rollout,
        model,
        version,
        target: alias,
        strategy: mode,
        status,
        ...(details ? { details } : {}),
      });
    },
    async promote(model, version, alias, by) {
      const move = await store.registry.promote(await principal(by), model, version, alias);
      return { previous: move.previous };
    },
    async predictions(model, version, since) {
      const rows = await store.serving.listPredictions(SYSTEM, {
        model,
        version,
        since: new Date(since),
        limit: 50_000,
      });
      return rows.map((r) => ({
        requestId: r.requestId,
        latencyMs: r.latencyMs,
        probability: r.probabilities[0] ?? 0,
      }));
    },
    errors: (model, version, since) =>
      store.serving.countPredictionErrors(SYSTEM, { model, version, since: new Date(since) }),
    async requestOnRecord(rollout, action, by) {
      const found = await store.audit.listAudit(SYSTEM, {
        subject: `rollout:${rollout}`,
        action: `deployment.${action}.requested`,
        actor: by,
      });
      return found.length > 0;
    },
    async audit(by, action, subject, after) {
      await store.audit.appendAudit(SYSTEM, { actor: by, action, subject, after });
    },
  };
}
