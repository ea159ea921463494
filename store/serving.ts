import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { alias as aliasedTable } from 'drizzle-orm/pg-core';
import type { AccessApi, Principal } from './access';
import { appendAuditIn } from './audit';
import { NotFoundError } from './errors';
import type { Executor } from './executor';
import { artifacts } from './schema/artifacts';
import { modelAliases, models, modelVersions } from './schema/registry';
import {
  predictionErrors,
  predictionLabels,
  predictions,
  trafficSplits,
  type Prediction,
  type PredictionError,
} from './schema/serving';

/** Which versions a served alias routes to now: the alias's holder and, during a rollout, a candidate. */
export interface ServedVersions {
  current: number;
  split: { mode: 'canary' | 'shadow'; candidate: number; percent: number; rollout: string | null } | null;
}

/** What a server needs to load one version. */
export interface ServableVersion {
  model: string;
  version: number;
  artifactSha256: string;
  /** The artifact's kind: `model` (a Kiln model document) or `onnx` (a graph). */
  kind: string;
  uri: string;
  signature: Record<string, unknown> | null;
}

export interface TrafficSplitInput {
  model: string;
  alias: string;
  mode: 'canary' | 'shadow';
  candidate: number;
  /** The canary's share of requests, 0 to 100; a shadow mirrors every request whatever it says. */
  percent: number;
  rollout?: string;
}

export type PredictionInput = Omit<Prediction, 'id'>;

export type PredictionErrorInput = Omit<PredictionError, 'id'>;

/** Longest error message kept: a stack or a dump of the rows does not belong in the log. */
const ERROR_MESSAGE_MAX = 500;

export interface PredictionQuery {
  model: string;
  version?: number;
  since?: Date;
  until?: Date;
  limit?: number;
}

/** A logged prediction with the true label, when feedback has brought one. */
export type LoggedPrediction = Prediction & { trueLabel: string | null };

// Rows per INSERT: a statement's JSON stays a few megabytes.
const INSERT_CHUNK = 5000;

/** The columns a logged row fills, by the field of PredictionInput that holds each. */
const LOGGED = {
  requestId: predictions.requestId,
  rowIndex: predictions.rowIndex,
  model: predictions.model,
  version: predictions.version,
  route: predictions.route,
  served: predictions.served,
  at: predictions.at,
  features: predictions.features,
  probabilities: predictions.probabilities,
  label: predictions.label,
  latencyMs: predictions.latencyMs,
} satisfies Record<keyof PredictionInput, unknown>;

// The logged columns, their names and SQL types, and one row as jsonb_to_recordset reads it.
const columns = Object.entries(LOGGED) as Array<[keyof PredictionInput, (typeof LOGGED)[keyof PredictionInput]]>;
const names = sql.join(
  columns.map(([, c]) => sql.identifier(c.name)),
  sql`, `,
);
const types = sql.join(
  columns.map(([, c]) => sql`${sql.identifier(c.name)} ${sql.raw(c.getSQLType())}`),
  sql`, `,
);
const asRecord = (row: PredictionInput) => Object.fromEntries(columns.map(([key, c]) => [c.name, row[key]]));

export const servingApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => {
  const candidates = aliasedTable(modelVersions, 'candidate_versions');

  async function versionId(tx: Executor, model: string, version: number): Promise<{ modelId: string; id: string }> {
    const [row] = await tx
      .select({ modelId: models.id, id: modelVersions.id })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(and(eq(models.name, model), eq(modelVersions.version, version)));
    if (!row) throw new NotFoundError('model version', `${model}@${version}`);
    return row;
  }

  /** Each alias (or the one named), the version it holds and its traffic split, by model and alias. */
  const aliasRoutes = (only?: { model: string; alias: string }) =>
    db
      .select({
        model: models.name,
        alias: modelAliases.alias,
        current: modelVersions.version,
        mode: trafficSplits.mode,
        percent: trafficSplits.percent,
        rollout: trafficSplits.rollout,
        candidate: candidates.version,
      })
      .from(modelAliases)
      .innerJoin(models, eq(models.id, modelAliases.modelId))
      .innerJoin(modelVersions, eq(modelVersions.id, modelAliases.versionId))
      .leftJoin(trafficSplits, and(eq(trafficSplits.modelId, models.id), eq(trafficSplits.alias, modelAliases.alias)))
      .leftJoin(candidates, eq(candidates.id, trafficSplits.candidateVersionId))
      .where(only ? and(eq(models.name, only.model), eq(modelAliases.alias, only.alias)) : undefined)
      .orderBy(models.name, modelAliases.alias);

  return {
    /** The versions `name#alias` serves now, in one query (a server polls it); undefined when the alias is unset. */
    async servedVersions(actor: Principal, name: string, alias: string): Promise<ServedVersions | undefined> {
      await access.authorize(actor, 'serve', `model:${name}#${alias}`);
      const [row] = await aliasRoutes({ model: name, alias });
      if (!row) return undefined;
      const split =
        row.mode && row.candidate !== null
          ? { mode: row.mode, candidate: row.candidate, percent: row.percent!, rollout: row.rollout }
          : null;
      return { current: row.current, split };
    },

    /** Every alias (or the one named) with the version it holds and its traffic split, for reading (a console). */
    async aliasRoutes(actor: Principal, only?: { model: string; alias: string }) {
      await access.authorize(actor, 'read', only ? `model:${only.model}#${only.alias}` : 'deployments');
      return aliasRoutes(only);
    },

    /** The artifact and signature of one version, for loading it into a server. */
    async servableVersion(actor: Principal, name: string, version: number): Promise<ServableVersion> {
      await access.authorize(actor, 'serve', `model:${name}@${version}`);
      const [row] = await db
        .select({
          artifactSha256: modelVersions.artifactSha256,
          signature: modelVersions.signature,
          kind: artifacts.kind,
          uri: artifacts.uri,
        })
        .from(modelVersions)
        .innerJoin(models, eq(models.id, modelVersions.modelId))
        .innerJoin(artifacts, eq(artifacts.sha256, modelVersions.artifactSha256))
        .where(and(eq(models.name, name), eq(modelVersions.version, version)));
      if (!row) throw new NotFoundError('model version', `${name}@${version}`);
      return { model: name, version, ...row };
    },

    /**
     * Sends a share of `model#alias`'s traffic to a candidate version (canary), or mirrors all of
     * it there (shadow); replaces any split already set (approver role). Audited.
     */
    async setTrafficSplit(actor: Principal, input: TrafficSplitInput): Promise<void> {
      const subject = `model:${input.model}#${input.alias}`;
      await access.authorize(actor, 'deploy', subject);
      if (!Number.isInteger(input.percent) || input.percent < 0 || input.percent > 100)
        throw new RangeError(
          `traffic split of ${subject}: percent must be an integer from 0 to 100, got ${input.percent}`,
        );
      await db.transaction(async (tx) => {
        const { modelId, id } = await versionId(tx, input.model, input.candidate);
        const [before] = await tx
          .select()
          .from(trafficSplits)
          .where(and(eq(trafficSplits.modelId, modelId), eq(trafficSplits.alias, input.alias)))
          .for('update');
        const values = {
          mode: input.mode,
          candidateVersionId: id,
          percent: input.percent,
          rollout: input.rollout ?? null,
          updatedBy: actor.name,
        };
        await tx
          .insert(trafficSplits)
          .values({ modelId, alias: input.alias, ...values })
          .onConflictDoUpdate({
            target: [trafficSplits.modelId, trafficSplits.alias],
            set: { ...values, updatedAt: sql`now()` },
          });
        await appendAuditIn(tx, {
          actor: actor.name,
          action: 'deployment.split',
          subject,
          before: before ? { mode: before.mode, percent: before.percent, rollout: before.rollout } : null,
          after: {
            mode: input.mode,
            candidate: input.candidate,
            percent: input.percent,
            rollout: input.rollout ?? null,
          },
        });
      });
    },

    /** Sends all of `model#alias`'s traffic to the alias's holder again (approver role). Audited when a split was set. */
    async clearTrafficSplit(actor: Principal, model: string, alias: string): Promise<boolean> {
      const subject = `model:${model}#${alias}`;
      await access.authorize(actor, 'deploy', subject);
      return db.transaction(async (tx) => {
        const [owner] = await tx.select({ id: models.id }).from(models).where(eq(models.name, model));
        if (!owner) throw new NotFoundError('model', model);
        const [removed] = await tx
          .delete(trafficSplits)
          .where(and(eq(trafficSplits.modelId, owner.id), eq(trafficSplits.alias, alias)))
          .returning();
        if (!removed) return false;
        await appendAuditIn(tx, {
          actor: actor.name,
          action: 'deployment.split',
          subject,
          before: { mode: removed.mode, percent: removed.percent, rollout: removed.rollout },
          after: null,
        });
        return true;
      });
    },

    /**
     * Appends scored rows to the prediction log (the server batches them). One parameter per
     * statement, the rows as JSON unpacked by jsonb_to_recordset: binding twelve parameters per
     * row cost more than the insert itself.
     */
    async recordPredictions(actor: Principal, rows: readonly PredictionInput[]): Promise<void> {
      await access.authorize(actor, 'serve', 'predictions');
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const json = JSON.stringify(rows.slice(i, i + INSERT_CHUNK).map(asRecord));
        await db.execute(
          sql`insert into ${predictions} (${names}) select ${names} from jsonb_to_recordset(${json}::jsonb) as rows(${types})`,
        );
      }
    },

    /**
     * Appends scored rows the log does not have yet, by (request, model, row, served): for at-least-once
     * consumers (`kiln stream`), where a redelivered event is scored again and must not be counted
     * twice. One statement per chunk: the unique index predictions_once_idx drops a row logged
     * already, also when two deliveries of an event race each other (an ack wait expired mid-write).
     * Returns the rows written.
     */
    async recordPredictionsOnce(actor: Principal, rows: readonly PredictionInput[]): Promise<number> {
      await access.authorize(actor, 'serve', 'predictions');
      let written = 0;
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const json = JSON.stringify(rows.slice(i, i + INSERT_CHUNK).map(asRecord));
        const inserted = await db.execute(
          sql`insert into ${predictions} (${names})
              select ${names} from jsonb_to_recordset(${json}::jsonb) as rows(${types})
              on conflict (request_id, model, row_index, served) do nothing
              returning 1`,
        );
        written += (inserted as unknown as { rows: unknown[] }).rows.length;
      }
      return written;
    },

    /** Appends requests a version failed to score (the server batches them); messages are cut to 500 characters. */
    async recordPredictionErrors(actor: Principal, rows: readonly PredictionErrorInput[]): Promise<void> {
      await access.authorize(actor, 'serve', 'predictions');
      for (let i = 0; i < rows.length; i += INSERT_CHUNK)
        await db
          .insert(predictionErrors)
          .values(
            rows.slice(i, i + INSERT_CHUNK).map((r) => ({ ...r, message: r.message.slice(0, ERROR_MESSAGE_MAX) })),
          );
    },

    /** How many requests a version failed to score since `since` (and before `until`, when given). */
    async countPredictionErrors(
      actor: Principal,
      query: { model: string; version: number; since: Date; until?: Date },
    ): Promise<number> {
      await access.authorize(actor, 'read', `model:${query.model}`);
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(predictionErrors)
        .where(
          and(
            eq(predictionErrors.model, query.model),
            eq(predictionErrors.version, query.version),
            gte(predictionErrors.at, query.since),
            query.until ? lt(predictionErrors.at, query.until) : undefined,
          ),
        );
      return row?.n ?? 0;
    },

    /**
     * Attaches true labels to the logged rows of a request. A label given again replaces the
     * first (a correction). Returns the rows labelled; rows the log does not have are left out.
     */
    async attachLabels(
      actor: Principal,
      input: {
        model: string;
        requestId: string;
        labels: ReadonlyArray<{ row: number; label: string }>;
      },
    ): Promise<number[]> {
      await access.authorize(actor, 'serve', `model:${input.model}`);
      if (input.labels.length === 0) return [];
      const logged = await db
        .selectDistinct({ row: predictions.rowIndex })
        .from(predictions)
        .where(and(eq(predictions.requestId, input.requestId), eq(predictions.model, input.model)));
      const present = new Set(logged.map((r) => r.row));
      const values = input.labels
        .filter((l) => present.has(l.row))
        .map((l) => ({ requestId: input.requestId, rowIndex: l.row, model: input.model, label: l.label }));
      if (values.length === 0) return [];
      await db
        .insert(predictionLabels)
        .values(values)
        .onConflictDoUpdate({
          target: [predictionLabels.requestId, predictionLabels.rowIndex],
          set: { label: sql`excluded.label`, receivedAt: sql`now()` },
        });
      return values.map((v) => v.rowIndex);
    },

    /** Logged predictions of a model (and version) in a time window, oldest first, with their true labels. */
    async listPredictions(actor: Principal, query: PredictionQuery): Promise<LoggedPrediction[]> {
      await access.authorize(actor, 'read', `model:${query.model}`);
      const rows = await db
        .select({ prediction: predictions, trueLabel: predictionLabels.label })
        .from(predictions)
        .leftJoin(
          predictionLabels,
          and(
            eq(predictionLabels.requestId, predictions.requestId),
            eq(predictionLabels.rowIndex, predictions.rowIndex),
          ),
        )
        .where(
          and(
            eq(predictions.model, query.model),
            query.version === undefined ? undefined : eq(predictions.version, query.version),
            query.since ? gte(predictions.at, query.since) : undefined,
            query.until ? lt(predictions.at, query.until) : undefined,
          ),
        )
        .orderBy(asc(predictions.at), asc(predictions.id))
        .limit(query.limit ?? 10_000);
      return rows.map((r) => ({ ...r.prediction, trueLabel: r.trueLabel }));
    },

    /**
     * Retention (the worker's or an admin's): deletes logged predictions and errors older than `before`, and labels received before it,
     * in bounded batches so that no single statement holds locks on millions of rows. Returns the
     * number of predictions deleted.
     */
    async deletePredictionsBefore(actor: Principal, before: Date, options: { batch?: number } = {}): Promise<number> {
      await access.authorize(actor, 'record', 'predictions');
      const batch = options.batch ?? 10_000;
      let deleted = 0;
      for (;;) {
        const old = db.select({ id: predictions.id }).from(predictions).where(lt(predictions.at, before)).limit(batch);
        const gone = await db.delete(predictions).where(inArray(predictions.id, old)).returning({ id: predictions.id });
        deleted += gone.length;
        if (gone.length < batch) break;
      }
      await db.delete(predictionLabels).where(lt(predictionLabels.receivedAt, before));
      await db.delete(predictionErrors).where(lt(predictionErrors.at, before));
      return deleted;
    },
  };
};
export type ServingApi = ReturnType<typeof servingApi>;
