import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RoleName } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, saveToken, withStore } from '../store';

export const help = `kiln token create --name NAME --role viewer|operator|approver|admin [--label L] [--expires-days N]
kiln token create --bootstrap --name NAME   the first admin of a store with no principals (kept in KILN_HOME/token)
kiln token list | revoke <token-id>
  API tokens: create prints the token once (only its hash is kept); needs the admin role.
  Roles: viewer (read), operator (run pipelines), approver (approve gates, move aliases),
  admin (manage principals and tokens).
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const DAY_MS = 86_400_000;

export async function token(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      label: { type: 'string' },
      'expires-days': { type: 'string' },
      token: { type: 'string' },
      bootstrap: { type: 'boolean' },
    },
  });
  const [sub, id] = positionals;
  if (!['create', 'list', 'revoke'].includes(sub ?? '')) throw new Error(`usage:\n${help}`);
  const config = loadConfig();
  return withStore(config, async (store) => {
    if (sub === 'create' && values.bootstrap) {
      if (!values.name) throw new Error(`token create --bootstrap needs --name\n${help}`);
      const created = await store.access.bootstrapAdmin(values.name, (c) => saveToken(config, c.token));
      if (!created)
        throw new Error(
          'this store has principals already; an admin creates tokens with `kiln token create --name NAME --role ROLE`',
        );
      print(
        `Created admin '${created.principal.name}'; the token is in ${join(config.home, 'token')} and shown only now:\n${created.token}`,
      );
      return 0;
    }
    const actor = await caller(store, config, print, values.token);
    switch (sub) {
      case 'create': {
        if (!values.name || !values.role) throw new Error(`token create needs --name and --role\n${help}`);
        const days = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
        if (days !== undefined && !(days > 0))
          throw new Error(`--expires-days must be a positive number, got '${values['expires-days']}'`);
        const created = await store.access.createToken(actor, {
          name: values.name,
          role: values.role as RoleName,
          ...(values.label ? { label: values.label } : {}),
          ...(days ? { expiresAt: new Date(Date.now() + days * DAY_MS) } : {}),
        });
        print(
          `Token for ${created.principal.name} (${created.principal.role}), id ${created.tokenId}. It is shown only now:\n${created.token}`,
        );
        return 0;
      }
      case 'list': {
        for (const p of await store.access.listPrincipals(actor)) {
          print(`${p.name}${p.disabledAt ? ' (disabled)' : ''}`);
          for (const t of p.tokens)
            print(
              `  ${t.id}  ${t.role}  ${t.label ?? ''}  created ${t.createdAt.toISOString()}${t.revokedAt ? '  revoked' : ''}${t.expiresAt ? `  expires ${t.expiresAt.toISOString()}` : ''}`,
            );
        }
        return 0;
      }
      case 'revoke': {
        if (!id) throw new Error(`revoke which token? usage:\n${help}`);
        await store.access.revokeToken(actor, id);
        print(`Revoked token ${id}`);
        return 0;
      }
      default:
        throw new Error(`usage:\n${help}`);
    }
  });
}
