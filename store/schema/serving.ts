import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { models, modelVersions } from './registry';

/**
 * The traffic split of a served alias (`credit-risk` `production`): a candidate version beside the
 * alias's holder. No row means every request goes to the holder. `canary` sends `percent` of the
 * requests to the candidate; `shadow` answers every request with the holder and mirrors it to the
 * candidate. The rollout workflow writes it; `kiln serve` follows it.
 */
export const trafficSplits = pgTable(
  'traffic_splits',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    alias: text('alias').notNull(),
    mode: text('mode').$type<'canary' | 'shadow'>().notNull(),
    candidateVersionId: uuid('candidate_version_id')
      .notNull()
      .references(() => modelVersions.id),
    percent: integer('percent').notNull(),
    /** The rollout that set it (its workflow id), when one did. */
    rollout: text('rollout'),
    updatedBy: text('updated_by').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'traffic_splits_pk', columns: [t.modelId, t.alias] }),
    check('traffic_splits_mode_check', sql`${t.mode} in ('canary', 'shadow')`),
    check('traffic_splits_percent_check', sql`${t.percent} between 0 and 100`),
  ],
);
export type TrafficSplit = typeof trafficSplits.$inferSelect;

/**
 * One row scored by the model server. A batch request has one row per input row (`row_index`);
 * a shadowed request has one per version, `served` telling which answer the caller got.
 * Append-only and large: read by (model, version, time), trimmed by time (BRIN on `at`).
 */
export const predictions = pgTable(
  'predictions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    requestId: text('request_id').notNull(),
    rowIndex: integer('row_index').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    /** `current` (the alias's holder), `canary` or `shadow`: how the split routed this row. */
    route: text('route').$type<'current' | 'canary' | 'shadow'>().notNull(),
    /** Whether the caller got this row's answer (a shadow's is logged, not returned). */
    served: boolean('served').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** The row as sent, with sensitive fields replaced by keyed hashes. */
    features: jsonb('features').$type<Record<string, unknown>>().notNull(),
    probabilities: jsonb('probabilities').$type<number[]>().notNull(),
    label: text('label').notNull(),
    /** The request's scoring time: the same for every row of a batch. */
    latencyMs: real('latency_ms').notNull(),
  },
  (t) => [
    index('predictions_model_version_at_idx').on(t.model, t.version, t.at),
    // Feedback finds a request's rows by its leading column; kiln stream's writes skip rows it holds.
    uniqueIndex('predictions_once_idx').on(t.requestId, t.model, t.rowIndex, t.served),
    index('predictions_at_brin_idx').using('brin', t.at),
    check('predictions_route_check', sql`${t.route} in ('current', 'canary', 'shadow')`),
  ],
);
export type Prediction = typeof predictions.$inferSelect;

/**
 * A request a version failed to score (a 500, or a shadow that threw): the rollout's error rate
 * reads it beside `predictions`. A request the caller got wrong (400, 404, 413) is not logged here.
 */
export const predictionErrors = pgTable(
  'prediction_errors',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    requestId: text('request_id').notNull(),
    model: text('model').notNull(),
    version: integer('version').notNull(),
    route: text('route').$type<'current' | 'canary' | 'shadow'>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    /** The error's class name, e.g. `RangeError`. */
    errorType: text('error_type').notNull(),
    /** The error's message, cut to 500 characters. */
    message: text('message').notNull(),
  },
  (t) => [
    index('prediction_errors_model_version_at_idx').on(t.model, t.version, t.at),
    check('prediction_errors_route_check', sql`${t.route} in ('current', 'canary', 'shadow')`),
  ],
);
export type PredictionError = typeof predictionErrors.$inferSelect;

/** A true label that arrived after the prediction (delayed feedback), per request row. */
export const predictionLabels = pgTable(
  'prediction_labels',
  {
    requestId: text('request_id').notNull(),
    rowIndex: integer('row_index').notNull(),
    model: text('model').notNull(),
    label: text('label').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'prediction_labels_pk', columns: [t.requestId, t.rowIndex] }),
    index('prediction_labels_model_received_idx').on(t.model, t.receivedAt),
  ],
);
export type PredictionLabel = typeof predictionLabels.$inferSelect;
