import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** An immutable, content-addressed file; the row is written once and never changes. */
export const artifacts = pgTable(
  'artifacts',
  {
    sha256: text('sha256').primaryKey(),
    kind: text('kind').notNull(),
    uri: text('uri').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    mediaType: text('media_type'),
    schema: jsonb('schema'),
    stats: jsonb('stats').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('artifacts_kind_created_idx').on(t.kind, t.createdAt)],
);
export type Artifact = typeof artifacts.$inferSelect;
