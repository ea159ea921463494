import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const roleNames = ['viewer', 'operator', 'approver', 'admin'] as const;
export type RoleName = (typeof roleNames)[number];

/** Ranked roles, seeded by a migration: each role may do everything the ones below it may. */
export const roles = pgTable('roles', {
  name: text('name').$type<RoleName>().primaryKey(),
  rank: integer('rank').notNull().unique('roles_rank_key'),
  description: text('description').notNull(),
});
export type Role = typeof roles.$inferSelect;

export const principals = pgTable(
  'principals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique('principals_name_key'),
    kind: text('kind').$type<'user' | 'service'>().notNull().default('user'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (t) => [check('principals_kind_check', sql`${t.kind} in ('user', 'service')`)],
);
export type PrincipalRow = typeof principals.$inferSelect;

/** An API token: only the sha256 of the secret is kept; the role travels with the token. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principalId: uuid('principal_id')
      .notNull()
      .references(() => principals.id),
    tokenSha256: text('token_sha256').notNull().unique('api_tokens_sha256_key'),
    role: text('role')
      .$type<RoleName>()
      .notNull()
      .references(() => roles.name),
    label: text('label'),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_tokens_principal_idx').on(t.principalId)],
);
export type ApiToken = typeof apiTokens.$inferSelect;
