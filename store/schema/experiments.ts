import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { artifacts } from './artifacts';
import { runs } from './runs';

export const experiments = pgTable('experiments', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique('experiments_name_key'),
  description: text('description'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
export type Experiment = typeof experiments.$inferSelect;

export const trialStatuses = ['running', 'succeeded', 'failed', 'pruned'] as const;
export type TrialStatus = (typeof trialStatuses)[number];

/** One configuration tried in an experiment; `key` makes re-recording a trial idempotent. */
export const trials = pgTable(
  'trials',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    experimentId: uuid('experiment_id')
      .notNull()
      .references(() => experiments.id),
    key: text('key').notNull(),
    runId: text('run_id').references(() => runs.id),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    metrics: jsonb('metrics').$type<Record<string, number>>().notNull().default({}),
    status: text('status').$type<TrialStatus>().notNull(),
    artifactSha256: text('artifact_sha256').references(() => artifacts.sha256),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('trials_experiment_key').on(t.experimentId, t.key),
    index('trials_run_idx').on(t.runId),
    check('trials_status_check', sql`${t.status} in ('running', 'succeeded', 'failed', 'pruned')`),
  ],
);
export type Trial = typeof trials.$inferSelect;
