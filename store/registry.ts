import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { AccessApi, Principal } from './access';
import { appendAuditIn } from './audit';
import { ConflictError, NotFoundError } from './errors';
import { pgErrorCode, type Executor } from './executor';
import {
  modelAliases,
  modelAliasHistory,
  models,
  modelVersions,
  type Model,
  type ModelAliasMove,
  type ModelVersion,
} from './schema/registry';

export interface RegisterModelVersion {
  model: string;
  artifactSha256: string;
  metrics?: Record<string, number>;
  signature?: Record<string, unknown>;
  runId?: string;
  stepExecutionId?: string;
  description?: string;
}

export interface ModelVersionInfo {
  model: string;
  version: number;
  id: string;
  artifactSha256: string;
  metrics: Record<string, number>;
  signature: Record<string, unknown> | null;
  runId: string | null;
  createdBy: string;
  createdAt: Date;
  aliases: string[];
}

export interface ModelSummary {
  name: string;
  description: string | null;
  createdAt: Date;
  /** Newest first. */
  versions: ModelVersionInfo[];
  aliases: Record<string, number>;
}

export interface AliasMove {
  model: string;
  alias: string;
  version: number;
  previous: number | null;
  changed: boolean;
}

export const registryApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => {
  async function lockModel(tx: Executor, name: string): Promise<Model> {
    const [model] = await tx.select().from(models).where(eq(models.name, name)).for('update');
    if (!model) throw new NotFoundError('model', name, 'register a version first');
    return model;
  }

  async function versionRow(tx: Executor, model: Model, version: number): Promise<ModelVersion> {
    const [row] = await tx
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.version, version)));
    if (!row) throw new NotFoundError('model version', `${model.name}@${version}`);
    return row;
  }

  /** The alias's holders as a stack: a promotion pushes, a rollback pops. */
  async function aliasStack(tx: Executor, modelId: string, alias: string): Promise<string[]> {
    const moves = await tx
      .select()
      .from(modelAliasHistory)
      .where(and(eq(modelAliasHistory.modelId, modelId), eq(modelAliasHistory.alias, alias)))
      .orderBy(asc(modelAliasHistory.id));
    const stack: string[] = [];
    for (const move of moves) {
      if (move.action === 'promote') stack.push(move.versionId);
      else stack.pop();
    }
    return stack;
  }

  async function moveAlias(
    tx: Executor,
    model: Model,
    alias: string,
    to: ModelVersion,
    from: string | null,
    action: 'promote' | 'rollback',
    actor: Principal,
  ): Promise<void> {
    await tx
      .insert(modelAliases)
      .values({ modelId: model.id, alias, versionId: to.id, updatedBy: actor.name })
      .onConflictDoUpdate({
        target: [modelAliases.modelId, modelAliases.alias],
        set: { versionId: to.id, updatedBy: actor.name, updatedAt: sql`now()` },
      });
    await tx
      .insert(modelAliasHistory)
      .values({ modelId: model.id, alias, action, versionId: to.id, previousVersionId: from, actor: actor.name });
  }

  async function versionNumber(tx: Executor, id: string | null | undefined): Promise<number | null> {
    if (!id) return null;
    const [row] = await tx
      .select({ version: modelVersions.version })
      .from(modelVersions)
      .where(eq(modelVersions.id, id));
    return row?.version ?? null;
  }

  async function currentHolder(tx: Executor, modelId: string, alias: string): Promise<string | null> {
    const [row] = await tx
      .select()
      .from(modelAliases)
      .where(and(eq(modelAliases.modelId, modelId), eq(modelAliases.alias, alias)));
    return row?.versionId ?? null;
  }

  async function summaries(where?: ReturnType<typeof eq>): Promise<ModelSummary[]> {
    const list = await db.select().from(models).where(where).orderBy(asc(models.name));
    if (list.length === 0) return [];
    const ids = list.map((m) => m.id);
    const versions = await db
      .select()
      .from(modelVersions)
      .where(inArray(modelVersions.modelId, ids))
      .orderBy(desc(modelVersions.version));
    const aliases = await db
      .select()
      .from(modelAliases)
      .where(inArray(modelAliases.modelId, ids))
      .orderBy(asc(modelAliases.alias));
    return list.map((m) => {
      const own = versions.filter((v) => v.modelId === m.id);
      const ownAliases = aliases.filter((a) => a.modelId === m.id);
      const byId = new Map(own.map((v) => [v.id, v.version]));
      return {
        name: m.name,
        description: m.description,
        createdAt: m.createdAt,
        versions: own.map((v) =>
          info(
            m.name,
            v,
            ownAliases.filter((a) => a.versionId === v.id).map((a) => a.alias),
          ),
        ),
        aliases: Object.fromEntries(ownAliases.map((a) => [a.alias, byId.get(a.versionId)!])),
      };
    });
  }

  return {
    /**
     * Registers an artifact as the next version of `model` (created if new). Idempotent: the
     * same artifact under the same model returns the version it already has.
     */
    async registerModelVersion(actor: Principal, input: RegisterModelVersion): Promise<ModelVersionInfo> {
      await access.authorize(actor, 'record', `model:${input.model}`);
      await db
        .insert(models)
        .values({ name: input.model, description: input.description ?? null })
        .onConflictDoNothing({ target: models.name });
      try {
        return await db.transaction(async (tx) => {
          const model = await lockModel(tx, input.model);
          const [existing] = await tx
            .select()
            .from(modelVersions)
            .where(and(eq(modelVersions.modelId, model.id), eq(modelVersions.artifactSha256, input.artifactSha256)));
          if (existing) return info(model.name, existing, []);
          const [{ next }] = (await tx
            .select({ next: sql<number>`coalesce(max(${modelVersions.version}), 0) + 1` })
            .from(modelVersions)
            .where(eq(modelVersions.modelId, model.id))) as [{ next: number }];
          const [row] = await tx
            .insert(modelVersions)
            .values({
              modelId: model.id,
              version: Number(next),
              artifactSha256: input.artifactSha256,
              metrics: input.metrics ?? {},
              signature: input.signature ?? null,
              runId: input.runId ?? null,
              stepExecutionId: input.stepExecutionId ?? null,
              createdBy: actor.name,
            })
            .returning();
          await appendAuditIn(tx, {
            actor: actor.name,
            action: 'model.register',
            subject: `model:${model.name}@${row!.version}`,
            after: { artifactSha256: row!.artifactSha256, metrics: row!.metrics, runId: row!.runId },
          });
          return info(model.name, row!, []);
        });
      } catch (error) {
        if (pgErrorCode(error) === '23503')
          throw new ConflictError(
            `model '${input.model}': artifact ${input.artifactSha256.slice(0, 12)} or run '${input.runId ?? ''}' is not recorded; record the artifact (and run) first`,
            { cause: error },
          );
        throw error;
      }
    },

    /** Every model with its versions (newest first), metrics and aliases. */
    async listModels(actor: Principal): Promise<ModelSummary[]> {
      await access.authorize(actor, 'read', 'models');
      return summaries();
    },

    async getModel(actor: Principal, name: string): Promise<ModelSummary | undefined> {
      await access.authorize(actor, 'read', `model:${name}`);
      return (await summaries(eq(models.name, name)))[0];
    },

    /** A version by number or by alias (`production`). */
    async getModelVersion(actor: Principal, name: string, versionOrAlias: number | string): Promise<ModelVersionInfo> {
      await access.authorize(actor, 'read', `model:${name}@${versionOrAlias}`);
      const summary = (await summaries(eq(models.name, name)))[0];
      if (!summary) throw new NotFoundError('model', name);
      const version =
        typeof versionOrAlias === 'number' || /^\d+$/.test(versionOrAlias)
          ? Number(versionOrAlias)
          : summary.aliases[versionOrAlias];
      const found = summary.versions.find((v) => v.version === version);
      if (!found)
        throw new NotFoundError(
          'model version',
          `${name}@${versionOrAlias}`,
          `versions: ${summary.versions.map((v) => v.version).join(', ') || 'none'}; aliases: ${Object.keys(summary.aliases).join(', ') || 'none'}`,
        );
      return found;
    },

    /** Points `alias` at `version` (approver role); the previous holder stays one rollback away. Audited, with the comment given. */
    async promote(
      actor: Principal,
      name: string,
      version: number,
      alias: string,
      options: { comment?: string } = {},
    ): Promise<AliasMove> {
      await access.authorize(actor, 'alias.move', `model:${name}@${version}`);
      return db.transaction(async (tx) => {
        const model = await lockModel(tx, name);
        const target = await versionRow(tx, model, version);
        const holder = await currentHolder(tx, model.id, alias);
        const previous = await versionNumber(tx, holder);
        if (holder === target.id) return { model: name, alias, version, previous, changed: false };
        await moveAlias(tx, model, alias, target, holder, 'promote', actor);
        await appendAuditIn(tx, {
          actor: actor.name,
          action: 'model.alias.promote',
          subject: `model:${name}#${alias}`,
          before: previous === null ? null : { version: previous },
          after: { version, ...(options.comment ? { comment: options.comment } : {}) },
        });
        return { model: name, alias, version, previous, changed: true };
      });
    },

    /** Moves `alias` back to the version that held it before the current one (approver role). Audited, with the comment given. */
    async rollback(
      actor: Principal,
      name: string,
      alias: string,
      options: { comment?: string } = {},
    ): Promise<AliasMove> {
      await access.authorize(actor, 'alias.move', `model:${name}#${alias}`);
      return db.transaction(async (tx) => {
        const model = await lockModel(tx, name);
        const stack = await aliasStack(tx, model.id, alias);
        const current = stack.at(-1);
        const back = stack.at(-2);
        if (!current) throw new NotFoundError('alias', `${name}#${alias}`, 'promote a version to it first');
        if (!back)
          throw new ConflictError(`alias '${alias}' of model '${name}' has no previous holder to roll back to`);
        const [target] = await tx.select().from(modelVersions).where(eq(modelVersions.id, back));
        const from = await versionNumber(tx, current);
        await moveAlias(tx, model, alias, target!, current, 'rollback', actor);
        await appendAuditIn(tx, {
          actor: actor.name,
          action: 'model.alias.rollback',
          subject: `model:${name}#${alias}`,
          before: { version: from },
          after: { version: target!.version, ...(options.comment ? { comment: options.comment } : {}) },
        });
        return { model: name, alias, version: target!.version, previous: from, changed: true };
      });
    },

    /** Every move of a model's aliases, oldest first. */
    async aliasHistory(
      actor: Principal,
      name: string,
      alias?: string,
    ): Promise<
      Array<
        Omit<ModelAliasMove, 'versionId' | 'previousVersionId' | 'modelId'> & {
          version: number;
          previous: number | null;
        }
      >
    > {
      await access.authorize(actor, 'read', `model:${name}`);
      const [model] = await db.select().from(models).where(eq(models.name, name));
      if (!model) throw new NotFoundError('model', name);
      const moves = await db
        .select()
        .from(modelAliasHistory)
        .where(
          alias === undefined
            ? eq(modelAliasHistory.modelId, model.id)
            : and(eq(modelAliasHistory.modelId, model.id), eq(modelAliasHistory.alias, alias)),
        )
        .orderBy(asc(modelAliasHistory.id));
      const versions = await db
        .select({ id: modelVersions.id, version: modelVersions.version })
        .from(modelVersions)
        .where(eq(modelVersions.modelId, model.id));
      const number = new Map(versions.map((v) => [v.id, v.version]));
      return moves.map(({ versionId, previousVersionId, modelId: _m, ...rest }) => ({
        ...rest,
        version: number.get(versionId)!,
        previous: previousVersionId ? number.get(previousVersionId)! : null,
      }));
    },
  };
};
export type RegistryApi = ReturnType<typeof registryApi>;

const info = (model: string, v: ModelVersion, aliases: string[]): ModelVersionInfo => ({
  model,
  version: v.version,
  id: v.id,
  artifactSha256: v.artifactSha256,
  metrics: v.metrics,
  signature: v.signature,
  runId: v.runId,
  createdBy: v.createdBy,
  createdAt: v.createdAt,
  aliases,
});
