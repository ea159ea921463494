import { and, asc, eq, sql } from 'drizzle-orm';
import { planHash as hashOf } from '../dsl/compile';
import { planWithoutHash } from '../dsl/plan';
import type { Decision } from '../dsl/states';
import type { AccessApi, Principal } from './access';
import { appendAuditIn } from './audit';
import { ConflictError, NotFoundError } from './errors';
import type { Executor } from './executor';
import { planVersions } from './schema/pipelines';
import { approvals, deployments, type Approval, type Deployment } from './schema/decisions';
import { runs } from './schema/runs';
import { models, modelVersions } from './schema/registry';

/**
 * A decision at a gate of a run, as the store records it: the workflow's Decision, whose `by` is
 * the principal passed beside it; `comment` is kept as the row's reason.
 */
export type GateDecision = Omit<Decision, 'by'> & {
  runId: string;
  /** What the decider was shown (the metrics under review). */
  shown?: Record<string, unknown>;
};

export interface DeploymentInput {
  /** Idempotency key: a retried deploy with the same key updates one row. */
  key: string;
  model: string;
  version: number;
  target: string;
  strategy?: string;
  status: string;
  details?: Record<string, unknown>;
}

const verdict = (input: GateDecision) => (input.approved ? 'approved' : 'rejected');

/**
 * The hash of run `runId`'s plan, recomputed from the plan the store holds for it (never the
 * hash a start request named): what a decision on the run is bound to.
 */
async function planOnRecord(tx: Executor, runId: string): Promise<string> {
  const [run] = await tx
    .select({ recorded: runs.planHash, plan: planVersions.plan })
    .from(runs)
    .innerJoin(planVersions, eq(planVersions.hash, runs.planHash))
    .where(eq(runs.id, runId));
  if (!run) throw new NotFoundError('run', runId, 'a decision is made on a run the worker has recorded');
  const hash = hashOf(planWithoutHash(run.plan));
  if (hash !== run.recorded)
    throw new ConflictError(
      `run '${runId}' is recorded with plan ${run.recorded.slice(0, 12)}, but that plan's content hashes to ${hash.slice(0, 12)}; no decision can be bound to it`,
    );
  return hash;
}

export const decisionsApi = (db: Executor, access: Pick<AccessApi, 'authorize' | 'principalByName'>) => ({
  /**
   * Records `by`'s approval or rejection of a gate (approver role, else AccessDeniedError, audited).
   * One decision per gate per run: repeating it returns the first; a contrary one is a ConflictError.
   */
  async recordDecision(by: Principal, input: GateDecision): Promise<Approval> {
    await access.authorize(by, input.approved ? 'gate.approve' : 'gate.reject', `run:${input.runId}#${input.gate}`);
    const decision = verdict(input);
    return db.transaction(async (tx) => {
      const planHash = await planOnRecord(tx, input.runId);
      const [created] = await tx
        .insert(approvals)
        .values({
          runId: input.runId,
          gate: input.gate,
          decision,
          decidedBy: by.name,
          reason: input.comment ?? null,
          shown: input.shown ?? null,
          planHash,
        })
        .onConflictDoNothing({ target: [approvals.runId, approvals.gate] })
        .returning();
      if (!created) {
        const [existing] = await tx
          .select()
          .from(approvals)
          .where(and(eq(approvals.runId, input.runId), eq(approvals.gate, input.gate)));
        if (existing!.decision !== decision) {
          throw new ConflictError(
            `gate '${input.gate}' of run '${input.runId}' was already ${existing!.decision} by ${existing!.decidedBy}`,
          );
        }
        return existing!;
      }
      await appendAuditIn(tx, {
        actor: by.name,
        action: input.approved ? 'gate.approve' : 'gate.reject',
        subject: `run:${input.runId}#${input.gate}`,
        after: { decision, reason: input.comment ?? null, shown: input.shown ?? null, planHash },
      });
      return created;
    });
  },

  /**
   * Audits that `by`'s recorded decision never reached its run (the record stands: the trail is
   * append-only). Needs the role the decision needed.
   */
  async recordUndelivered(by: Principal, input: GateDecision, reason: string): Promise<void> {
    const subject = `run:${input.runId}#${input.gate}`;
    await access.authorize(by, input.approved ? 'gate.approve' : 'gate.reject', subject);
    await db.transaction((tx) =>
      appendAuditIn(tx, { actor: by.name, action: 'gate.undelivered', subject, after: { reason } }),
    );
  },

  async listDecisions(actor: Principal, runId: string): Promise<Approval[]> {
    await access.authorize(actor, 'read', `run:${runId}`);
    return db.select().from(approvals).where(eq(approvals.runId, runId)).orderBy(asc(approvals.decidedAt));
  },

  /**
   * The principal who approved `gate` of run `runId` for the plan hashing to `planHash`, as the
   * store has it on record; undefined when the gate has no approval recorded, or one given for
   * another plan. Steps that act on an approval act as this principal.
   */
  async approverOf(actor: Principal, runId: string, gate: string, planHash: string): Promise<Principal | undefined> {
    await access.authorize(actor, 'read', `run:${runId}#${gate}`);
    const [row] = await db
      .select({ decidedBy: approvals.decidedBy })
      .from(approvals)
      .where(
        and(
          eq(approvals.runId, runId),
          eq(approvals.gate, gate),
          eq(approvals.decision, 'approved'),
          eq(approvals.planHash, planHash),
        ),
      );
    return row && access.principalByName(actor, row.decidedBy);
  },

  /** Records a deployment or a change of its status (approver role); each change is audited once. */
  async recordDeployment(actor: Principal, input: DeploymentInput): Promise<Deployment> {
    await access.authorize(actor, 'deploy', `model:${input.model}@${input.version}`);
    return db.transaction(async (tx) => {
      const [version] = await tx
        .select({ id: modelVersions.id })
        .from(modelVersions)
        .innerJoin(models, eq(models.id, modelVersions.modelId))
        .where(and(eq(models.name, input.model), eq(modelVersions.version, input.version)));
      if (!version) throw new NotFoundError('model version', `${input.model}@${input.version}`);
      const [before] = await tx.select().from(deployments).where(eq(deployments.key, input.key)).for('update');
      if (before && before.modelVersionId !== version.id)
        throw new ConflictError(`deployment '${input.key}' is of another model version`);
      if (before && before.status === input.status) return before;
      const [row] = await tx
        .insert(deployments)
        .values({
          key: input.key,
          modelVersionId: version.id,
          target: input.target,
          strategy: input.strategy ?? 'replace',
          status: input.status,
          details: input.details ?? null,
          deployedBy: actor.name,
        })
        .onConflictDoUpdate({
          target: deployments.key,
          set: { status: input.status, details: sql`coalesce(excluded.details, ${deployments.details})` },
        })
        .returning();
      await appendAuditIn(tx, {
        actor: actor.name,
        action: 'model.deploy',
        subject: `model:${input.model}@${input.version}`,
        before: before ? { status: before.status } : null,
        after: { key: input.key, target: input.target, strategy: row!.strategy, status: input.status },
      });
      return row!;
    });
  },
});
export type DecisionsApi = ReturnType<typeof decisionsApi>;
