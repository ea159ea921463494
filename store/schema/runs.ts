import { boolean, check, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { runStates, type RunState } from '../../dsl/states';
import { oneOf } from './one-of';
import { pipelines, planVersions } from './pipelines';

/** One execution of a plan; `id` is Kiln's run id, stable across Temporal continue-as-new. */
export const runs = pgTable(
  'runs',
  {
    id: text('id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    temporalRunId: text('temporal_run_id'),
    pipelineName: text('pipeline_name')
      .notNull()
      .references(() => pipelines.name),
    planHash: text('plan_hash')
      .notNull()
      .references(() => planVersions.hash),
    status: text('status').$type<RunState>().notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    codeCommit: text('code_commit'),
    codeDirty: boolean('code_dirty'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    errorType: text('error_type'),
    errorMessage: text('error_message'),
    /** The Temporal Schedule that started this run (`kiln schedule`), when one did. */
    scheduleId: text('schedule_id'),
  },
  (t) => [
    index('runs_pipeline_started_idx').on(t.pipelineName, t.startedAt),
    index('runs_workflow_idx').on(t.workflowId),
    index('runs_plan_idx').on(t.planHash),
    index('runs_status_started_idx').on(t.status, t.startedAt),
    index('runs_schedule_started_idx').on(t.scheduleId, t.startedAt),
    // The console's run list pages newest first over every run: keyset on (started_at, id).
    index('runs_started_idx').on(t.startedAt, t.id),
    check('runs_status_check', oneOf(t.status, runStates)),
  ],
);
export type Run = typeof runs.$inferSelect;
export type { RunState };
