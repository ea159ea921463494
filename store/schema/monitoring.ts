import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { MonitorAction, MonitorPolicy, MonitorReport, RetrainPlan } from '../../monitor/report';

/**
 * A served model alias watched on a Temporal Schedule (`kiln monitor create`): its policy, and
 * the compiled plan of the pipeline it starts to retrain. The schedule's id is kept to delete it.
 */
export const monitors = pgTable('monitors', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique('monitors_name_unique'),
  model: text('model').notNull(),
  alias: text('alias').notNull(),
  policy: jsonb('policy').$type<MonitorPolicy>().notNull(),
  /** The plan and parameters of the retraining run, compiled when the monitor was created. */
  retrain: jsonb('retrain').$type<RetrainPlan>(),
  scheduleId: text('schedule_id').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});
export type Monitor = typeof monitors.$inferSelect;

/**
 * One monitoring window of a monitor: what it measured and what it did. `episode` is set on a
 * drifting window: the id of the first drifting window of the run of drifting windows it belongs to.
 */
export const monitorReports = pgTable(
  'monitor_reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    monitorId: uuid('monitor_id')
      .notNull()
      .references(() => monitors.id, { onDelete: 'cascade' }),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    windowEnd: timestamp('window_end', { withTimezone: true }).notNull(),
    /** `measured`, `insufficientData` (too few rows) or `noLineage` (no training dataset to compare with). */
    status: text('status').$type<MonitorReport['status']>().notNull(),
    version: integer('version'),
    rows: integer('rows').notNull(),
    drifted: boolean('drifted').notNull(),
    share: real('share'),
    features: jsonb('features').$type<MonitorReport['features']>().notNull(),
    latencyP50Ms: real('latency_p50_ms'),
    latencyP99Ms: real('latency_p99_ms'),
    accuracy: real('accuracy'),
    rocAuc: real('roc_auc'),
    episode: uuid('episode'),
    actions: jsonb('actions').$type<MonitorAction[]>().notNull().default([]),
    /** The whole report, as the workflow returned it and the webhook received it. */
    report: jsonb('report').$type<MonitorReport>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A retried or replayed window finds its row instead of adding a second one.
    uniqueIndex('monitor_reports_window_unique').on(t.monitorId, t.windowStart, t.windowEnd),
    index('monitor_reports_monitor_end_idx').on(t.monitorId, t.windowEnd),
    index('monitor_reports_episode_idx').on(t.monitorId, t.episode),
    check('monitor_reports_status_check', sql`${t.status} in ('measured', 'insufficientData', 'noLineage')`),
  ],
);
export type MonitorReportRow = typeof monitorReports.$inferSelect;
