import { sql } from 'drizzle-orm';
import { rows, type Executor } from './executor';

/**
 * The database roles that bound what a login to a PostgreSQL store may do, whatever client it
 * uses (psql included). Each Kiln role has one, and each includes the one before it; the worker
 * has its own. The store's owner (who runs migrations) is none of them and keeps every right.
 */
export const databaseRoles = {
  viewer: 'kiln_viewer',
  operator: 'kiln_operator',
  approver: 'kiln_approver',
  admin: 'kiln_admin',
  worker: 'kiln_worker',
} as const;
export type DatabaseRole = keyof typeof databaseRoles;

// Idempotent: `kiln store grant` runs it again after migrations add tables.
const statements = [
  ...Object.values(databaseRoles).map(
    (role) =>
      // Roles belong to the server, not the database: another database may have made it already.
      `DO $$ BEGIN CREATE ROLE ${role} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
  ),
  'GRANT kiln_viewer TO kiln_operator',
  'GRANT kiln_operator TO kiln_approver',
  'GRANT kiln_approver TO kiln_admin',
  'GRANT kiln_viewer TO kiln_worker',
  // Everyone reads, including the migrations table (opening the store checks it).
  'GRANT USAGE ON SCHEMA public, drizzle TO kiln_viewer',
  'GRANT SELECT ON ALL TABLES IN SCHEMA public TO kiln_viewer',
  'GRANT SELECT ON drizzle.__drizzle_migrations TO kiln_viewer',
  // The audit trail is insert-only for every login: no UPDATE, DELETE or TRUNCATE, and no
  // ALTER (disabling its trigger) since none of them owns it.
  'GRANT INSERT ON audit_events TO kiln_viewer',
  // `kiln serve` runs as a viewer: it logs predictions, errors and labels, nothing else.
  'GRANT INSERT ON predictions, prediction_errors TO kiln_viewer',
  'GRANT INSERT, UPDATE ON prediction_labels TO kiln_viewer',
  'GRANT INSERT, UPDATE, DELETE ON monitors TO kiln_operator',
  'GRANT INSERT ON approvals, model_alias_history TO kiln_approver',
  'GRANT USAGE ON SEQUENCE model_alias_history_id_seq TO kiln_approver',
  'GRANT INSERT, UPDATE ON model_aliases, deployments TO kiln_approver',
  'GRANT INSERT, UPDATE, DELETE ON traffic_splits TO kiln_approver',
  // Moving an alias locks its model row (SELECT ... FOR UPDATE needs an UPDATE right).
  'GRANT UPDATE (description) ON models TO kiln_approver',
  'GRANT INSERT, UPDATE ON principals, api_tokens TO kiln_admin',
  // The worker records runs, steps, artifacts, lineage, registrations and rollouts, and moves
  // aliases as a run's recorded approver; it never writes decisions, principals or tokens.
  'GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO kiln_worker',
  'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO kiln_worker',
  'REVOKE UPDATE, DELETE ON audit_events, approvals FROM kiln_worker',
  'REVOKE INSERT, UPDATE, DELETE ON principals, api_tokens, roles FROM kiln_worker',
  'REVOKE INSERT ON approvals FROM kiln_worker',
  // A login writes decisions, alias moves and audit events only under its own name; the worker
  // (which acts for the recorded approver, and audits refusals by others) under any.
  ...rowRule('audit_events', 'actor', 'INSERT', "actor IN (session_user, 'anonymous')"),
  ...rowRule('approvals', 'decided_by', 'INSERT'),
  ...rowRule('model_aliases', 'updated_by', 'ALL'),
  ...rowRule('model_alias_history', 'actor', 'INSERT'),
];

function rowRule(table: string, column: string, command: 'INSERT' | 'ALL', check = `${column} = session_user`) {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `DROP POLICY IF EXISTS kiln_read ON ${table}`,
    `CREATE POLICY kiln_read ON ${table} FOR SELECT USING (true)`,
    `DROP POLICY IF EXISTS kiln_as_self ON ${table}`,
    `CREATE POLICY kiln_as_self ON ${table} FOR ${command} TO kiln_viewer ${command === 'ALL' ? 'USING (true) ' : ''}WITH CHECK (${check})`,
    `DROP POLICY IF EXISTS kiln_worker ON ${table}`,
    `CREATE POLICY kiln_worker ON ${table} FOR ${command} TO kiln_worker ${command === 'ALL' ? 'USING (true) ' : ''}WITH CHECK (true)`,
  ];
}

/** The SQL `grantRoles` runs, for a DBA who would rather read it or run it with psql. */
export const grantStatements = (): readonly string[] => statements;

/**
 * Creates the roles (when absent) and grants them their rights on this database: run as the
 * store's owner on PostgreSQL, after migrations, and again after later ones.
 */
export async function grantRoles(db: Executor): Promise<void> {
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.execute(sql.raw(statement));
  });
}

/** Gives the existing login `login` the rights of `role` (and only those: its other Kiln roles are revoked). */
export async function grantLogin(db: Executor, login: string, role: DatabaseRole): Promise<void> {
  if (!(role in databaseRoles))
    throw new Error(`unknown database role '${role}'; roles are ${Object.keys(databaseRoles).join(', ')}`);
  const [found] = await rows<{ rolname: string }>(db, sql`select rolname from pg_roles where rolname = ${login}`);
  if (!found) throw new Error(`no login role '${login}' on this server; a DBA creates it first (CREATE ROLE … LOGIN)`);
  if ((Object.values(databaseRoles) as string[]).includes(login))
    throw new Error(`'${login}' is one of Kiln's own roles, not a login`);
  await db.transaction(async (tx) => {
    for (const other of Object.values(databaseRoles))
      await tx.execute(sql`revoke ${sql.identifier(other)} from ${sql.identifier(login)}`);
    await tx.execute(sql`grant ${sql.identifier(databaseRoles[role])} to ${sql.identifier(login)}`);
  });
}
