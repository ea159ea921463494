import { sql } from 'drizzle-orm';
import { check, index, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { artifacts } from './artifacts';
import { stepExecutions } from './steps';

export type LineageDirection = 'input' | 'output' | 'reused';

/**
 * artifact -> step execution (`input`), step execution -> artifact (`output`), or a cache hit's
 * step -> the artifact it reused (`reused`: not a producer, so upstream walks skip it). `port`
 * is the input or output field. Both covering indexes serve the recursive walks.
 */
export const lineageEdges = pgTable(
  'lineage_edges',
  {
    stepExecutionId: uuid('step_execution_id')
      .notNull()
      .references(() => stepExecutions.id),
    direction: text('direction').$type<LineageDirection>().notNull(),
    artifactSha256: text('artifact_sha256')
      .notNull()
      .references(() => artifacts.sha256),
    port: text('port').notNull().default(''),
  },
  (t) => [
    primaryKey({ name: 'lineage_edges_pk', columns: [t.stepExecutionId, t.direction, t.artifactSha256, t.port] }),
    index('lineage_edges_artifact_idx').on(t.artifactSha256, t.direction, t.stepExecutionId),
    check('lineage_edges_direction_check', sql`${t.direction} in ('input', 'output', 'reused')`),
  ],
);
export type LineageEdge = typeof lineageEdges.$inferSelect;
