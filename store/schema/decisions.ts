import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { modelVersions } from './registry';
import { runs } from './runs';

/** A human decision on an approval gate; one per gate per run. */
export const approvals = pgTable(
  'approvals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    gate: text('gate').notNull(),
    decision: text('decision').$type<'approved' | 'rejected'>().notNull(),
    decidedBy: text('decided_by').notNull(),
    reason: text('reason'),
    shown: jsonb('shown').$type<Record<string, unknown>>(),
    /** The hash of the run's plan, recomputed from the plan on record when the decision was made. */
    planHash: text('plan_hash').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('approvals_run_gate_key').on(t.runId, t.gate),
    check('approvals_decision_check', sql`${t.decision} in ('approved', 'rejected')`),
  ],
);
export type Approval = typeof approvals.$inferSelect;

/** A model version put behind a serving target; `key` makes a retried deploy idempotent. */
export const deployments = pgTable(
  'deployments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    key: text('key').notNull().unique('deployments_key_key'),
    modelVersionId: uuid('model_version_id')
      .notNull()
      .references(() => modelVersions.id),
    target: text('target').notNull(),
    strategy: text('strategy').notNull().default('replace'),
    status: text('status').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>(),
    deployedBy: text('deployed_by').notNull(),
    deployedAt: timestamp('deployed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('deployments_target_idx').on(t.target, t.deployedAt)],
);
export type Deployment = typeof deployments.$inferSelect;
