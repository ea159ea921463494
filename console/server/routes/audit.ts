import type { FastifyInstance } from 'fastify';
import type { AuditPage, AuditVerifyResponse } from '../../api';
import type { ConsoleContext } from '../context';
import { ApiInputError } from '../errors';
import { positiveInt, textParams } from '../input';

const auditQuery = textParams({ actor: 200, action: 200, subject: 400, since: 40, before: 20, limit: 20 });

export function auditRoutes(app: FastifyInstance, { store }: ConsoleContext) {
  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/audit',
    { schema: { querystring: auditQuery } },
    async (request): Promise<AuditPage> => {
      const q = request.query;
      const limit = positiveInt('limit', q.limit, 100, 1000);
      const before = q.before === undefined ? undefined : positiveInt('before', q.before, 1, Number.MAX_SAFE_INTEGER);
      const since = q.since === undefined ? undefined : new Date(q.since);
      if (since && Number.isNaN(since.getTime()))
        throw new ApiInputError(`query parameter 'since' must be an ISO-8601 time, not '${q.since}'`);
      const events = await store.audit.listAudit(request.principal, {
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.subject ? { subject: q.subject } : {}),
        ...(since ? { since } : {}),
        ...(before !== undefined ? { beforeSeq: before } : {}),
        limit,
        newestFirst: true,
      });
      return {
        events: events.map((e) => ({
          seq: e.seq,
          at: e.at.toISOString(),
          actor: e.actor,
          action: e.action,
          subject: e.subject,
          before: e.before,
          after: e.after,
          hash: e.hash,
        })),
        next: events.length === limit ? String(events.at(-1)!.seq) : null,
      };
    },
  );

  app.get('/api/audit/verify', async (request): Promise<AuditVerifyResponse> => {
    const result = await store.audit.verifyAudit(request.principal);
    return result.ok
      ? { ok: true, checked: result.count }
      : { ok: false, checked: result.seq - 1, firstBad: { seq: result.seq, reason: result.reason } };
  });
}
