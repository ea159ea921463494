import { and, asc, eq, sql } from 'drizzle-orm';
import { SYSTEM, type AccessApi, type Principal } from './access';
import { appendAuditIn } from './audit';
import { ConflictError, NotFoundError } from './errors';
import type { Executor } from './executor';
import { approvals, deployments, type Approval, type Deployment } from './schema/decisions';
import { models, modelVersions } from './schema/registry';

export interface GateDecision {
  runId: string;
  gate: string;
  decision: 'approved' | 'rejected';
  by: Principal;
  reason?: string;
  /** What the decider was shown (the metrics under review). */
  shown?: Record<string, unknown>;
}

export interface DeploymentInput {
  /** Idempotency key: a retried deploy with the same key updates one row. */
  key: string;
  model: string;
  version: number;
  target: string;
  strategy?: string;
  status: string;
  details?: Record<string, unknown>;
  actor?: Principal;
}

export const decisionsApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => ({
  /**
   * Records an approval or rejection of a gate (approver role, else AccessDeniedError, audited).
   * One decision per gate per run: repeating it returns the first; a contrary one is a ConflictError.
   */
  async recordDecision(input: GateDecision): Promise<Approval> {
    await access.authorize(
      input.by,
      input.decision === 'approved' ? 'gate.approve' : 'gate.reject',
      `run:${input.runId}#${input.gate}`,
    );
    return db.transaction(async (tx) => {
      const [created] = await tx
        .insert(approvals)
        .values({
          runId: input.runId,
          gate: input.gate,
          decision: input.decision,
          decidedBy: input.by.name,
          reason: input.reason ?? null,
          shown: input.shown ?? null,
        })
        .onConflictDoNothing({ target: [approvals.runId, approvals.gate] })
        .returning();
      if (!created) {
        const [existing] = await tx
          .select()
          .from(approvals)
          .where(and(eq(approvals.runId, input.runId), eq(approvals.gate, input.gate)));
        if (existing!.decision !== input.decision) {
          throw new ConflictError(
            `gate '${input.gate}' of run '${input.runId}' was already ${existing!.decision} by ${existing!.decidedBy}`,
          );
        }
        return existing!;
      }
      await appendAuditIn(tx, {
        actor: input.by.name,
        action: input.decision === 'approved' ? 'gate.approve' : 'gate.reject',
        subject: `run:${input.runId}#${input.gate}`,
        after: { decision: input.decision, reason: input.reason ?? null, shown: input.shown ?? null },
      });
      return created;
    });
  },

  async listDecisions(runId: string): Promise<Approval[]> {
    return db.select().from(approvals).where(eq(approvals.runId, runId)).orderBy(asc(approvals.decidedAt));
  },

  /** Records a deployment or a change of its status (approver role); each change is audited once. */
  async recordDeployment(input: DeploymentInput): Promise<Deployment> {
    const actor = input.actor ?? SYSTEM;
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
