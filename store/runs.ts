import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Failure } from '../dsl/failures';
import type { PipelinePlan } from '../dsl/plan';
import type { AccessApi, Principal } from './access';
import { ConflictError, NotFoundError } from './errors';
import { auditEvents } from './schema/audit';
import type { Executor } from './executor';
import { pipelines, planVersions } from './schema/pipelines';
import { runs, type Run, type RunState } from './schema/runs';

export interface CodeVersion {
  commit: string | null;
  dirty: boolean;
}

export interface RunStart {
  /** Kiln's run id; stays the same across continue-as-new. */
  runId: string;
  workflowId: string;
  temporalRunId?: string;
  plan: PipelinePlan;
  params?: Record<string, unknown>;
  code?: CodeVersion;
  startedAt?: Date;
  /** The Temporal Schedule that started the run, if one did. */
  scheduleId?: string;
}

export interface RunFinish {
  runId: string;
  status: Exclude<RunState, 'running'>;
  error?: Failure;
  finishedAt?: Date;
}

/** Where a page of runs ends: the last run's start time and id (runs are ordered by both, newest first). */
export interface RunCursor {
  startedAt: Date;
  runId: string;
}

export interface RunPageQuery {
  pipeline?: string;
  status?: RunState;
  limit: number;
  before?: RunCursor;
}

export async function recordPlanIn(tx: Executor, plan: PipelinePlan): Promise<void> {
  await tx.insert(pipelines).values({ name: plan.name }).onConflictDoNothing();
  await tx
    .insert(planVersions)
    .values({ hash: plan.hash, pipelineName: plan.name, version: plan.version, plan })
    .onConflictDoNothing();
}

export const runsApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => {
  /** Who started each run: the actor of its `run.start` audit event (kiln run, the console). */
  async function startersOf(runIds: string[]): Promise<Map<string, string>> {
    if (runIds.length === 0) return new Map();
    const starts = await db
      .select({ subject: auditEvents.subject, actor: auditEvents.actor })
      .from(auditEvents)
      .where(
        and(
          inArray(
            auditEvents.subject,
            runIds.map((id) => `run:${id}`),
          ),
          eq(auditEvents.action, 'run.start'),
        ),
      );
    return new Map(starts.map((s) => [s.subject.slice('run:'.length), s.actor]));
  }

  return {
    /** Stores a compiled plan under its hash (idempotent). */
    async recordPlan(actor: Principal, plan: PipelinePlan): Promise<void> {
      await access.authorize(actor, 'record', `pipeline:${plan.name}`);
      await db.transaction((tx) => recordPlanIn(tx, plan));
    },

    /**
     * Records that a run started; idempotent on `runId` (a replayed call returns the same row and
     * only refreshes the Temporal run id). The same run id with another plan is a ConflictError.
     */
    async recordRunStart(actor: Principal, start: RunStart): Promise<Run> {
      await access.authorize(actor, 'record', `run:${start.runId}`);
      const run = await db.transaction(async (tx) => {
        await recordPlanIn(tx, start.plan);
        const [row] = await tx
          .insert(runs)
          .values({
            id: start.runId,
            workflowId: start.workflowId,
            temporalRunId: start.temporalRunId ?? null,
            pipelineName: start.plan.name,
            planHash: start.plan.hash,
            status: 'running',
            params: start.params ?? {},
            codeCommit: start.code?.commit ?? null,
            codeDirty: start.code?.dirty ?? null,
            startedAt: start.startedAt ?? new Date(),
            scheduleId: start.scheduleId ?? null,
          })
          .onConflictDoUpdate({
            target: runs.id,
            set: { temporalRunId: sql`coalesce(excluded.temporal_run_id, ${runs.temporalRunId})` },
          })
          .returning();
        return row!;
      });
      if (run.planHash !== start.plan.hash) {
        throw new ConflictError(
          `run '${start.runId}' is recorded with plan ${run.planHash.slice(0, 12)}, not ${start.plan.hash.slice(0, 12)}; a run id names one plan`,
        );
      }
      return run;
    },

    /**
     * Records how a run ended; repeating the same finish keeps the first finish time. Its steps'
     * outcomes are the workflow's to record, each on its own (kiln.recordStep).
     */
    async recordRunFinish(actor: Principal, finish: RunFinish): Promise<Run> {
      await access.authorize(actor, 'record', `run:${finish.runId}`);
      const at = finish.finishedAt ?? new Date();
      const [row] = await db
        .update(runs)
        .set({
          status: finish.status,
          finishedAt: sql`case when ${runs.status} = ${finish.status} and ${runs.finishedAt} is not null then ${runs.finishedAt} else ${at.toISOString()}::timestamptz end`,
          errorType: finish.error?.type ?? null,
          errorMessage: finish.error?.message ?? null,
        })
        .where(eq(runs.id, finish.runId))
        .returning();
      if (!row) throw new NotFoundError('run', finish.runId, 'record its start first (recordRunStart)');
      return row;
    },

    async getRun(actor: Principal, runId: string): Promise<Run | undefined> {
      await access.authorize(actor, 'read', `run:${runId}`);
      const [row] = await db.select().from(runs).where(eq(runs.id, runId));
      return row;
    },

    /** Newest first. */
    async listRuns(
      actor: Principal,
      query: { pipeline?: string; status?: RunState; limit?: number } = {},
    ): Promise<Run[]> {
      await access.authorize(actor, 'read', 'runs');
      const where: SQL[] = [];
      if (query.pipeline !== undefined) where.push(eq(runs.pipelineName, query.pipeline));
      if (query.status !== undefined) where.push(eq(runs.status, query.status));
      return db
        .select()
        .from(runs)
        .where(and(...where))
        .orderBy(desc(runs.startedAt))
        .limit(query.limit ?? 100);
    },

    /** The compiled plan recorded under `hash`. */
    async getPlan(actor: Principal, hash: string): Promise<PipelinePlan | undefined> {
      await access.authorize(actor, 'read', `plan:${hash}`);
      const [row] = await db.select({ plan: planVersions.plan }).from(planVersions).where(eq(planVersions.hash, hash));
      return row?.plan;
    },

    /**
     * One page of runs, newest first, after `before` (keyset on runs_started_idx, so page 100 costs
     * what page 1 does), each with who started it: the actor of its `run.start` audit event.
     */
    async pageRuns(actor: Principal, query: RunPageQuery): Promise<Array<Run & { startedBy: string | null }>> {
      await access.authorize(actor, 'read', 'runs');
      const where: SQL[] = [];
      if (query.pipeline !== undefined) where.push(eq(runs.pipelineName, query.pipeline));
      if (query.status !== undefined) where.push(eq(runs.status, query.status));
      if (query.before)
        where.push(
          sql`(${runs.startedAt}, ${runs.id}) < (${query.before.startedAt.toISOString()}::timestamptz, ${query.before.runId})`,
        );
      const page = await db
        .select()
        .from(runs)
        .where(and(...where))
        .orderBy(desc(runs.startedAt), desc(runs.id))
        .limit(query.limit);
      const startedBy = await startersOf(page.map((r) => r.id));
      return page.map((r) => ({ ...r, startedBy: startedBy.get(r.id) ?? null }));
    },

    /** Who started a run (the actor of its `run.start` audit event), or null when none is on record. */
    async startedBy(actor: Principal, runId: string): Promise<string | null> {
      await access.authorize(actor, 'read', `run:${runId}`);
      return (await startersOf([runId])).get(runId) ?? null;
    },
  };
};
export type RunsApi = ReturnType<typeof runsApi>;
