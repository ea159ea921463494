import { parseArgs } from 'node:util';
import type { AuditEvent } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln audit [--subject S] [--action A] [--actor NAME] [--limit N] [--json] | verify
  The append-only audit trail: who did what, when, to which subject, with before and after.
  Newest last; --limit keeps the newest N (default 50).
  verify  recomputes the hash chain: proves the trail untampered, or names the first bad record.
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const change = (e: AuditEvent) =>
  [e.before ? `before ${JSON.stringify(e.before)}` : '', e.after ? `after ${JSON.stringify(e.after)}` : '']
    .filter(Boolean)
    .join('  ');

export async function audit(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      subject: { type: 'string' },
      action: { type: 'string' },
      actor: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const config = loadConfig();
  return withStore(config, async (store) => {
    const principal = await caller(store, config, print, values.token);
    if (positionals[0] === 'verify') {
      const result = await store.audit.verifyAudit(principal);
      print(
        result.ok
          ? `Audit trail intact: ${result.count} events, hash chain verified.`
          : `Audit trail TAMPERED at event #${result.seq}: ${result.reason}`,
      );
      return result.ok ? 0 : 1;
    }
    if (positionals[0] !== undefined) throw new Error(`unknown audit command '${positionals[0]}'\n${help}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new Error(`--limit must be a positive integer, got '${values.limit}'`);
    const events = (
      await store.audit.listAudit(principal, {
        ...(values.subject ? { subject: values.subject } : {}),
        ...(values.action ? { action: values.action } : {}),
        ...(values.actor ? { actor: values.actor } : {}),
        limit,
        newestFirst: true,
      })
    ).reverse();
    if (values.json) print(JSON.stringify(events, null, 2));
    else
      print(
        events
          .map((e) => `#${e.seq}  ${e.at.toISOString()}  ${e.actor}  ${e.action}  ${e.subject}  ${change(e)}`)
          .join('\n') || 'No audit events.',
      );
    return 0;
  });
}
