import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The append-only trail: `hash = sha256(prev_hash + canonical JSON of the event)`. A trigger
 * (migration 0001) refuses UPDATE, DELETE and TRUNCATE.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subject: text('subject').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull().unique('audit_events_hash_key'),
  },
  (t) => [
    index('audit_events_subject_idx').on(t.subject, t.seq),
    index('audit_events_action_idx').on(t.action, t.seq),
    index('audit_events_actor_idx').on(t.actor, t.seq),
  ],
);
export type AuditEvent = typeof auditEvents.$inferSelect;
