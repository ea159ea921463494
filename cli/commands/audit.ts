import { parseArgs } from 'node:util';
import type { AuditEvent } from '../../store';
import { checkpointFiles, checkTrail, writeCheckpoint, type TrailCheck } from '../../store/audit-checkpoint';
import { loadConfig } from '../../runtime/config';
import { caller, withStore } from '../store';

export const help = `kiln audit [--subject S] [--action A] [--actor NAME] [--limit N] [--json] | verify | checkpoint
  The append-only audit trail: who did what, when, to which subject, with before and after.
  Newest last; --limit keeps the newest N (default 50).
  verify      recomputes the hash chain and checks every signed checkpoint against it; exits 1
              naming the first bad record, a checkpoint whose signature fails, or removed records.
  checkpoint  signs the trail's head (seq and hash) with the key in KILN_AUDIT_KEY (default
              KILN_HOME/audit-key.pem, made on first use) and appends it to KILN_AUDIT_CHECKPOINTS
              (default KILN_HOME/audit-checkpoints.jsonl). The worker does this every minute.
  --token TOKEN  act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const change = (e: AuditEvent) =>
  [e.before ? `before ${JSON.stringify(e.before)}` : '', e.after ? `after ${JSON.stringify(e.after)}` : '']
    .filter(Boolean)
    .join('  ');

function describe(result: TrailCheck, log: string): string {
  if (!result.ok) return `Audit trail TAMPERED at event #${result.seq} (${result.problem}): ${result.reason}`;
  if (result.checkpoints === 0)
    return `Audit trail intact: ${result.count} events, hash chain verified. No signed checkpoint in ${log}, so a rewritten and re-hashed chain or removed newest events would not show: sign one with \`kiln audit checkpoint\`.`;
  const last = result.last!;
  return `Audit trail intact: ${result.count} events, hash chain verified, ${result.checkpoints === 1 ? '1 signed checkpoint holds' : `${result.checkpoints} signed checkpoints hold`} (newest: #${last.seq}, ${last.at}); events after #${last.seq} are covered by the chain only.`;
}

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
    const files = checkpointFiles(config.home);
    if (positionals[0] === 'verify') {
      const result = await checkTrail(store.audit, principal, files);
      print(describe(result, files.log));
      return result.ok ? 0 : 1;
    }
    if (positionals[0] === 'checkpoint') {
      const written = await writeCheckpoint(store.audit, principal, files);
      print(
        written
          ? `Signed checkpoint of #${written.seq} (${written.hash.slice(0, 12)}) with key ${written.key}; appended to ${files.log}.`
          : `Nothing new to sign: the newest checkpoint in ${files.log} covers the whole trail.`,
      );
      return 0;
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
