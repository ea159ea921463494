import { parseArgs } from 'node:util';
import { loadConfig } from '../../runtime/config';
import { databaseRoles, grantLogin, grantRoles, grantStatements, type DatabaseRole } from '../../store/grants';
import { withStore } from '../store';

export const help = `kiln store grant [--login NAME --role viewer|operator|approver|admin|worker] [--print]
  PostgreSQL only (DATABASE_URL, connected as the store's owner): creates the database roles
  kiln_viewer < kiln_operator < kiln_approver < kiln_admin and kiln_worker, and grants them
  their rights on this database, so the database itself refuses what a login's role may not do.
  Run it again after an upgrade adds tables. --login gives an existing login one role (and
  only that one); a login acts in the store under its own name, so name it as its principal.
  --print shows the SQL instead of running it.`;

export async function store(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { login: { type: 'string' }, role: { type: 'string' }, print: { type: 'boolean' } },
  });
  if (positionals[0] !== 'grant' || positionals.length > 1) throw new Error(`usage:\n${help}`);
  if (values.print) {
    print(grantStatements().join(';\n') + ';');
    return 0;
  }
  const role = values.role as DatabaseRole | undefined;
  if ((values.login === undefined) !== (role === undefined)) throw new Error(`--login and --role go together\n${help}`);
  if (role !== undefined && !(role in databaseRoles))
    throw new Error(`unknown role '${role}'; roles are ${Object.keys(databaseRoles).join(', ')}`);
  const config = loadConfig();
  if (!config.databaseUrl)
    throw new Error('kiln store grant is for a PostgreSQL store (set DATABASE_URL): a PGlite store has one user');
  return withStore(config, async (opened) => {
    await grantRoles(opened.db);
    print(`Granted ${Object.values(databaseRoles).join(', ')} their rights on this database.`);
    if (values.login && role) {
      await grantLogin(opened.db, values.login, role);
      print(`Login '${values.login}' now holds ${databaseRoles[role]} (and no other Kiln role).`);
    }
    return 0;
  });
}
