import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { stepStates, type StepState } from '../../dsl/states';
import { oneOf } from './one-of';
import { runs } from './runs';

/** One node of one run: a single row however many attempts Temporal makes. */
export const stepExecutions = pgTable(
  'step_executions',
  {
    // Made in JS for drizzle's inserts: PGlite's gen_random_uuid() reads /dev/urandom through its
    // emulated file system, about 0.4 ms a row, and a worker writes a row per step.
    id: uuid('id')
      .primaryKey()
      .defaultRandom()
      .$defaultFn(() => globalThis.crypto.randomUUID()),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id),
    nodeId: text('node_id').notNull(),
    stepName: text('step_name').notNull(),
    stepVersion: text('step_version').notNull(),
    status: text('status').$type<StepState>().notNull(),
    attempts: integer('attempts').notNull().default(1),
    cacheKey: text('cache_key'),
    cachedFrom: uuid('cached_from').references((): AnyPgColumn => stepExecutions.id),
    output: jsonb('output'),
    errorType: text('error_type'),
    errorMessage: text('error_message'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    attemptStartedAt: timestamp('attempt_started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('step_executions_run_node_key').on(t.runId, t.nodeId),
    index('step_executions_cache_idx')
      .on(t.cacheKey, t.finishedAt)
      .where(sql`${t.status} = 'succeeded'`),
    index('step_executions_step_idx').on(t.stepName, t.stepVersion),
    check('step_executions_status_check', oneOf(t.status, stepStates)),
    check('step_executions_attempts_check', sql`${t.attempts} >= 1`),
  ],
);
export type StepExecution = typeof stepExecutions.$inferSelect;
export type { StepState };
