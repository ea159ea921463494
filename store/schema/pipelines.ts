import { index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { PipelinePlan } from '../../dsl/plan';

export const pipelines = pgTable('pipelines', {
  name: text('name').primaryKey(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
export type Pipeline = typeof pipelines.$inferSelect;

/** A compiled plan, named by its content hash; runs point at the exact plan they interpreted. */
export const planVersions = pgTable(
  'plan_versions',
  {
    hash: text('hash').primaryKey(),
    pipelineName: text('pipeline_name')
      .notNull()
      .references(() => pipelines.name),
    version: text('version').notNull(),
    plan: jsonb('plan').$type<PipelinePlan>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('plan_versions_pipeline_idx').on(t.pipelineName, t.createdAt)],
);
export type PlanVersion = typeof planVersions.$inferSelect;
