import type { FastifyInstance } from 'fastify';
import { recordAndSend } from '../../../cli/decide';
import type { DecisionRequest, DecisionResponse, PendingApproval } from '../../api';
import type { ConsoleContext } from '../context';
import { textParams } from '../input';
import { liveStatus } from '../run-detail';

// Running runs asked at once for their waiting gates; the rest wait their turn.
const QUERY_BATCH = 16;

export function approvalRoutes(app: FastifyInstance, { store, client }: ConsoleContext) {
  app.get('/api/approvals', async (request): Promise<PendingApproval[]> => {
    const running = await store.runs.pageRuns(request.principal, { status: 'running', limit: 500 });
    const pending: PendingApproval[] = [];
    for (let i = 0; i < running.length; i += QUERY_BATCH) {
      const batch = running.slice(i, i + QUERY_BATCH);
      const snapshots = await Promise.all(
        // A run whose worker does not answer has no gate the console can show as waiting.
        batch.map((run) => liveStatus(client, run.workflowId)),
      );
      batch.forEach((run, k) => {
        for (const node of snapshots[k]?.nodes ?? [])
          if (node.type === 'approval' && node.status === 'waiting')
            pending.push({
              runId: run.id,
              pipeline: run.pipelineName,
              gate: node.id,
              shown: node.gate?.show ?? {},
              waitingSince: node.gate?.since ?? null,
            });
      });
    }
    return pending;
  });

  app.post<{ Params: { runId: string; gate: string }; Body: DecisionRequest }>(
    '/api/approvals/:runId/:gate',
    {
      schema: {
        params: textParams({ runId: 400, gate: 200 }, ['runId', 'gate']),
        body: {
          type: 'object',
          required: ['decision'],
          additionalProperties: false,
          properties: {
            decision: { type: 'string', enum: ['approve', 'reject'] },
            comment: { type: 'string', maxLength: 2000 },
          },
        },
      },
    },
    async (request): Promise<DecisionResponse> => {
      const { runId, gate } = request.params;
      const approved = request.body.decision === 'approve';
      // The same path as `kiln approve`: the role is checked and the decision recorded, then sent.
      await recordAndSend(
        client.workflow.getHandle(runId),
        store,
        request.principal,
        gate,
        approved,
        request.body.comment || undefined,
      );
      return { runId, gate, approved, by: request.principal.name };
    },
  );
}
