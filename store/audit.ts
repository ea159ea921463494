import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { canonicalJson } from '../dsl/canonical';
import type { AccessApi, Principal } from './access';
import type { Executor } from './executor';
import { auditEvents, type AuditEvent } from './schema/audit';

export interface AuditInput {
  actor: string;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
}

export type AuditVerification = { ok: true; count: number } | { ok: false; seq: number; reason: string };

export const GENESIS_HASH = '0'.repeat(64);
// Any constant: every append takes this transaction-scoped lock, so the chain never forks.
const AUDIT_LOCK = 7_463_519_002;

/** What the hash covers: every field but the hashes themselves, in canonical JSON. */
export function auditHash(prevHash: string, event: Omit<AuditEvent, 'prevHash' | 'hash'>): string {
  const body = canonicalJson({
    seq: event.seq,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    subject: event.subject,
    before: event.before ?? null,
    after: event.after ?? null,
  });
  return createHash('sha256')
    .update(prevHash + body)
    .digest('hex');
}

/** Appends within `tx`; call it last in a transaction so the lock is held briefly. */
export async function appendAuditIn(tx: Executor, input: AuditInput): Promise<AuditEvent> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`);
  const [head] = await tx
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  const event = {
    seq: (head?.seq ?? 0) + 1,
    at: new Date(),
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    before: input.before ?? null,
    after: input.after ?? null,
  };
  const prevHash = head?.hash ?? GENESIS_HASH;
  const [row] = await tx
    .insert(auditEvents)
    .values({ ...event, prevHash, hash: auditHash(prevHash, event) })
    .returning();
  return row!;
}

export interface AuditQuery {
  subject?: string;
  action?: string;
  actor?: string;
  afterSeq?: number;
  /** Events before this seq (paging newest first). */
  beforeSeq?: number;
  /** Events at or after this time. */
  since?: Date;
  limit?: number;
  /** Newest first (the last `limit` events); default oldest first. */
  newestFirst?: boolean;
}

export const auditApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => ({
  /** Appends one hash-chained event in its own transaction; the event may name another actor, so only the worker (or an admin) writes one. */
  async appendAudit(actor: Principal, input: AuditInput): Promise<AuditEvent> {
    await access.authorize(actor, 'record', input.subject);
    return db.transaction((tx) => appendAuditIn(tx, input));
  },

  /** Events in seq order, filtered by subject, action or actor; at most `limit` (default 1000). */
  async listAudit(actor: Principal, query: AuditQuery = {}): Promise<AuditEvent[]> {
    await access.authorize(actor, 'read', 'audit');
    const where: SQL[] = [];
    if (query.subject !== undefined) where.push(eq(auditEvents.subject, query.subject));
    if (query.action !== undefined) where.push(eq(auditEvents.action, query.action));
    if (query.actor !== undefined) where.push(eq(auditEvents.actor, query.actor));
    if (query.afterSeq !== undefined) where.push(gt(auditEvents.seq, query.afterSeq));
    if (query.beforeSeq !== undefined) where.push(lt(auditEvents.seq, query.beforeSeq));
    if (query.since !== undefined) where.push(gte(auditEvents.at, query.since));
    return db
      .select()
      .from(auditEvents)
      .where(and(...where))
      .orderBy(query.newestFirst ? desc(auditEvents.seq) : asc(auditEvents.seq))
      .limit(query.limit ?? 1000);
  },

  /** The stored hash of each record named (a record not in the store is absent from the map). */
  async hashesAt(actor: Principal, seqs: number[]): Promise<Map<number, string>> {
    await access.authorize(actor, 'read', 'audit');
    if (seqs.length === 0) return new Map();
    const rows = await db
      .select({ seq: auditEvents.seq, hash: auditEvents.hash })
      .from(auditEvents)
      .where(inArray(auditEvents.seq, seqs));
    return new Map(rows.map((r) => [r.seq, r.hash]));
  },

  /**
   * Recomputes the chain from the first event, or after `from` (a record already verified, whose
   * seq and hash the caller vouches for); names the first record whose seq, link or hash is
   * wrong. A chain rewritten and re-hashed, or one whose newest events were removed, still
   * verifies here: signed checkpoints (audit-checkpoint.ts) detect those.
   */
  async verifyAudit(
    actor: Principal,
    options: { batchSize?: number; from?: { seq: number; hash: string } } = {},
  ): Promise<AuditVerification> {
    await access.authorize(actor, 'read', 'audit');
    const batchSize = options.batchSize ?? 5000;
    let prevHash = options.from?.hash ?? GENESIS_HASH;
    let expected = (options.from?.seq ?? 0) + 1;
    for (;;) {
      const batch = await db
        .select()
        .from(auditEvents)
        .where(gt(auditEvents.seq, expected - 1))
        .orderBy(asc(auditEvents.seq))
        .limit(batchSize);
      for (const event of batch) {
        if (event.seq !== expected)
          return { ok: false, seq: expected, reason: `record ${expected} is missing (next is ${event.seq})` };
        if (event.prevHash !== prevHash)
          return { ok: false, seq: event.seq, reason: `prev_hash does not match the hash of record ${event.seq - 1}` };
        if (auditHash(prevHash, event) !== event.hash)
          return {
            ok: false,
            seq: event.seq,
            reason: "hash does not match the record's content (altered after it was written)",
          };
        prevHash = event.hash;
        expected += 1;
      }
      if (batch.length < batchSize) return { ok: true, count: expected - 1 };
    }
  },
});
export type AuditApi = ReturnType<typeof auditApi>;
