import { inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { AccessApi, Principal } from './access';
import { appendAuditIn } from './audit';
import { rows, type Executor } from './executor';
import { artifacts } from './schema/artifacts';
import { predictionErrors, predictionLabels, predictions } from './schema/serving';

export interface CollectOptions {
  /** Content and prediction-log rows older than this may go; anything newer stays. */
  before: Date;
  /** List what would go and change nothing. */
  dryRun?: boolean;
  /**
   * Deletes one artifact's file: called after the store has marked it deleted, so a cache lookup
   * already skips it. Required unless `dryRun`.
   */
  removeContent?: (sha256: string) => Promise<void>;
}

export interface Collected {
  before: Date;
  dryRun: boolean;
  /** Artifacts whose content went (or would go); their rows and lineage stay. */
  artifacts: Array<{ sha256: string; kind: string; size: number }>;
  bytes: number;
  predictions: number;
  predictionErrors: number;
  predictionLabels: number;
}

/**
 * The artifacts nothing needs: not a registered version's model, report or model card, nor
 * upstream of one (its training data, which a monitor reads as reference), nor read or written by
 * a run started after `before` or still running, nor created after `before`. Upstream follows
 * lineage: an artifact's producing step, that step's inputs, and so on.
 */
const unneeded = (before: Date) => {
  const at = before.toISOString();
  return sql`
  with recursive seed(sha256) as (
    select artifact_sha256 from model_versions
    union select e.artifact_sha256 from lineage_edges e
      join model_versions v on v.step_execution_id = e.step_execution_id
    union select e.artifact_sha256 from lineage_edges e
      join step_executions s on s.id = e.step_execution_id
      join runs r on r.id = s.run_id
      where r.started_at >= ${at}::timestamptz or r.finished_at is null
    union select sha256 from artifacts where created_at >= ${at}::timestamptz
  ),
  needed(sha256) as (
    select sha256 from seed
    union
    select i.artifact_sha256 from needed n
      join lineage_edges o on o.artifact_sha256 = n.sha256 and o.direction = 'output'
      join lineage_edges i on i.step_execution_id = o.step_execution_id and i.direction = 'input'
  )
  select a.sha256, a.kind, a.size from artifacts a
  where a.content_deleted_at is null and a.sha256 not in (select sha256 from needed)
  order by a.created_at, a.sha256`;
};

const count = async (db: Executor, query: SQL) => Number((await rows<{ n: number | string }>(db, query))[0]?.n ?? 0);

export const retentionApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => ({
  /**
   * Retention (`kiln gc`, admin): deletes the files of artifacts nothing needs and prediction-log
   * rows (predictions, errors, labels) older than `before`. Artifact rows and lineage are
   * governance records and stay, marked `content_deleted_at`. Audited with counts and hashes.
   */
  async collect(actor: Principal, options: CollectOptions): Promise<Collected> {
    await access.authorize(actor, 'gc', 'store');
    const { before } = options;
    const dryRun = options.dryRun === true;
    if (!dryRun && !options.removeContent) throw new Error('retention needs removeContent unless it is a dry run');
    const plan = async (tx: Executor) => {
      const found = await rows<{ sha256: string; kind: string; size: number | string }>(tx, unneeded(before));
      return {
        artifacts: found.map((a) => ({ sha256: a.sha256, kind: a.kind, size: Number(a.size) })),
        predictions: await count(tx, sql`select count(*) as n from ${predictions} where ${predictions.at} < ${before}`),
        predictionErrors: await count(
          tx,
          sql`select count(*) as n from ${predictionErrors} where ${predictionErrors.at} < ${before}`,
        ),
        predictionLabels: await count(
          tx,
          sql`select count(*) as n from ${predictionLabels} where ${predictionLabels.receivedAt} < ${before}`,
        ),
      };
    };
    const summary = (p: Awaited<ReturnType<typeof plan>>): Collected => ({
      before,
      dryRun,
      ...p,
      bytes: p.artifacts.reduce((sum, a) => sum + a.size, 0),
    });
    if (dryRun) return summary(await plan(db));
    const collected = await db.transaction(async (tx) => {
      const p = summary(await plan(tx));
      const shas = p.artifacts.map((a) => a.sha256);
      if (shas.length > 0)
        await tx
          .update(artifacts)
          .set({ contentDeletedAt: sql`now()` })
          .where(inArray(artifacts.sha256, shas));
      await tx.delete(predictions).where(lt(predictions.at, before));
      await tx.delete(predictionErrors).where(lt(predictionErrors.at, before));
      await tx.delete(predictionLabels).where(lt(predictionLabels.receivedAt, before));
      await appendAuditIn(tx, {
        actor: actor.name,
        action: 'retention.gc',
        subject: 'store',
        after: {
          before: before.toISOString(),
          artifacts: shas.length,
          bytes: p.bytes,
          sha256: shas,
          predictions: p.predictions,
          predictionErrors: p.predictionErrors,
          predictionLabels: p.predictionLabels,
        },
      });
      return p;
    });
    // After the commit: a file removed before it would leave a row that claims content it lacks.
    for (const a of collected.artifacts) await options.removeContent!(a.sha256);
    return collected;
  },
});
export type RetentionApi = ReturnType<typeof retentionApi>;
