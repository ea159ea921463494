import { asc, eq, sql } from 'drizzle-orm';
import { NotFoundError } from './errors';
import type { AccessApi, Principal } from './access';
import type { Executor } from './executor';
import { experiments, trials, type Experiment, type Trial, type TrialStatus } from './schema/experiments';

export interface TrialInput {
  experiment: string;
  /** Natural key within the experiment (e.g. the run id and map index); re-recording updates. */
  key: string;
  status: TrialStatus;
  runId?: string;
  params?: Record<string, unknown>;
  /** Merged into the metrics already recorded. */
  metrics?: Record<string, number>;
  artifactSha256?: string;
  finishedAt?: Date;
}

export const experimentsApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => ({
  /** Creates an experiment, or returns the one with this name. */
  async recordExperiment(actor: Principal, input: { name: string; description?: string }): Promise<Experiment> {
    await access.authorize(actor, 'record', `experiment:${input.name}`);
    await db
      .insert(experiments)
      .values({ name: input.name, description: input.description ?? null })
      .onConflictDoNothing({ target: experiments.name });
    const [row] = await db.select().from(experiments).where(eq(experiments.name, input.name));
    return row!;
  },

  /** Records or updates a trial; idempotent on (experiment, key). The experiment is created if new. */
  async recordTrial(actor: Principal, input: TrialInput): Promise<Trial> {
    await access.authorize(actor, 'record', `experiment:${input.experiment}`);
    return db.transaction(async (tx) => {
      await tx.insert(experiments).values({ name: input.experiment }).onConflictDoNothing({ target: experiments.name });
      const [experiment] = await tx.select().from(experiments).where(eq(experiments.name, input.experiment));
      const finished = input.status === 'running' ? null : (input.finishedAt ?? new Date()).toISOString();
      const [row] = await tx
        .insert(trials)
        .values({
          experimentId: experiment!.id,
          key: input.key,
          runId: input.runId ?? null,
          params: input.params ?? {},
          metrics: input.metrics ?? {},
          status: input.status,
          artifactSha256: input.artifactSha256 ?? null,
          finishedAt: finished === null ? null : sql`${finished}::timestamptz`,
        })
        .onConflictDoUpdate({
          target: [trials.experimentId, trials.key],
          set: {
            status: input.status,
            metrics: sql`${trials.metrics} || excluded.metrics`,
            params: sql`case when excluded.params = '{}'::jsonb then ${trials.params} else excluded.params end`,
            runId: sql`coalesce(excluded.run_id, ${trials.runId})`,
            artifactSha256: sql`coalesce(excluded.artifact_sha256, ${trials.artifactSha256})`,
            finishedAt: sql`case when excluded.finished_at is null then null else coalesce(${trials.finishedAt}, excluded.finished_at) end`,
          },
        })
        .returning();
      return row!;
    });
  },

  async listExperiments(actor: Principal): Promise<Experiment[]> {
    await access.authorize(actor, 'read', 'experiments');
    return db.select().from(experiments).orderBy(asc(experiments.name));
  },

  /** Trials of an experiment; ranked by `metric` when given (best first), else in start order. */
  async listTrials(
    actor: Principal,
    experiment: string,
    options: { metric?: string; goal?: 'max' | 'min' } = {},
  ): Promise<Trial[]> {
    await access.authorize(actor, 'read', `experiment:${experiment}`);
    const [found] = await db.select().from(experiments).where(eq(experiments.name, experiment));
    if (!found) throw new NotFoundError('experiment', experiment);
    const list = await db
      .select()
      .from(trials)
      .where(eq(trials.experimentId, found.id))
      .orderBy(asc(trials.startedAt), asc(trials.key));
    const metric = options.metric;
    if (metric === undefined) return list;
    const sign = options.goal === 'min' ? 1 : -1;
    const value = (t: Trial) => t.metrics[metric];
    return [...list].sort((a, b) => {
      const x = value(a),
        y = value(b);
      if (x === undefined) return y === undefined ? 0 : 1;
      if (y === undefined) return -1;
      return sign * (x - y);
    });
  },
});
export type ExperimentsApi = ReturnType<typeof experimentsApi>;
