import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** An immutable, content-addressed file; the row is written once and only its content's deletion is marked. */
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
    /**
     * When `kiln gc` deleted the file (retention). The row stays, so lineage still shows the hash;
     * a cache lookup skips results naming it; storing the same content again clears it.
     */
    contentDeletedAt: timestamp('content_deleted_at', { withTimezone: true }),
  },
  (t) => [index('artifacts_kind_created_idx').on(t.kind, t.createdAt)],
);
export type Artifact = typeof artifacts.$inferSelect;
