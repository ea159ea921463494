import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { artifacts } from './artifacts';
import { runs } from './runs';
import { stepExecutions } from './steps';

export const models = pgTable('models', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique('models_name_key'),
  description: text('description'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
export type Model = typeof models.$inferSelect;

/** A registered model artifact; one artifact is registered under a model at most once. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    version: integer('version').notNull(),
    artifactSha256: text('artifact_sha256')
      .notNull()
      .references(() => artifacts.sha256),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull().default({}),
    signature: jsonb('signature').$type<Record<string, unknown>>(),
    runId: text('run_id').references(() => runs.id),
    stepExecutionId: uuid('step_execution_id').references(() => stepExecutions.id),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('model_versions_model_version_key').on(t.modelId, t.version),
    unique('model_versions_model_artifact_key').on(t.modelId, t.artifactSha256),
    index('model_versions_artifact_idx').on(t.artifactSha256),
    index('model_versions_run_idx').on(t.runId),
  ],
);
export type ModelVersion = typeof modelVersions.$inferSelect;

/** Where an alias such as `production` points now. */
export const modelAliases = pgTable(
  'model_aliases',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => modelVersions.id),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'model_aliases_pk', columns: [t.modelId, t.alias] }),
    index('model_aliases_version_idx').on(t.versionId),
  ],
);
export type ModelAlias = typeof modelAliases.$inferSelect;

/** Every alias move in order; rollback walks it back. */
export const modelAliasHistory = pgTable(
  'model_alias_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    action: text('action').$type<'promote' | 'rollback'>().notNull(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => modelVersions.id),
    previousVersionId: uuid('previous_version_id').references(() => modelVersions.id),
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('model_alias_history_alias_idx').on(t.modelId, t.alias, t.id),
    check('model_alias_history_action_check', sql`${t.action} in ('promote', 'rollback')`),
  ],
);
export type ModelAliasMove = typeof modelAliasHistory.$inferSelect;
