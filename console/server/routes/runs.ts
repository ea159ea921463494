import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { runStates, type RunState } from '../../../dsl/states';
import { SYSTEM } from '../../../store';
import type { runPipeline } from '../../../workflows';
import { startRunAs } from '../../../cli/start-run';
import type { CancelRunResponse, RunDetail, RunsPage, StartRunRequest, StartRunResponse } from '../../api';
import type { ConsoleContext } from '../context';
import { ApiInputError } from '../errors';
import { decodeRunCursor, encodeRunCursor, positiveInt, textParams } from '../input';
import { runDetail, runSummary } from '../run-detail';

const runIdParams = textParams({ runId: 400 }, ['runId']);
const runsQuery = textParams({ pipeline: 200, state: 40, limit: 20, before: 400 });

const closed = (detail: RunDetail) => detail.run.state !== 'running';

export function runRoutes(app: FastifyInstance, ctx: ConsoleContext) {
  const { store, client } = ctx;
  // Open event streams end when the server closes, instead of holding its close until their runs end.
  const shutdown = new AbortController();
  app.addHook('preClose', (done) => {
    shutdown.abort();
    done();
  });
  const pause = (ms: number) =>
    sleep(ms, undefined, { signal: shutdown.signal }).catch(() => {
      // Aborted: the server is closing, and the stream ends after this wait.
    });

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/api/runs',
    { schema: { querystring: runsQuery } },
    async (request): Promise<RunsPage> => {
      const q = request.query;
      if (q.state !== undefined && !runStates.includes(q.state as RunState))
        throw new ApiInputError(`query parameter 'state' must be one of ${runStates.join(', ')}, not '${q.state}'`);
      const limit = positiveInt('limit', q.limit, 50, 500);
      const page = await store.runs.pageRuns(request.principal, {
        limit,
        ...(q.pipeline ? { pipeline: q.pipeline } : {}),
        ...(q.state ? { status: q.state as RunState } : {}),
        ...(q.before ? { before: decodeRunCursor(q.before) } : {}),
      });
      const last = page.at(-1);
      return {
        runs: page.map((r) => runSummary(r)),
        next: page.length === limit && last ? encodeRunCursor({ startedAt: last.startedAt, runId: last.id }) : null,
      };
    },
  );

  app.get<{ Params: { runId: string } }>(
    '/api/runs/:runId',
    { schema: { params: runIdParams } },
    async (request): Promise<RunDetail> =>
      runDetail(store, client, request.principal, request.params.runId, ctx.temporal),
  );

  // Server-sent events: a `snapshot` whenever the run's detail changes, polled from the workflow's
  // status query; the stream ends after the snapshot that shows the run closed.
  app.get<{ Params: { runId: string } }>(
    '/api/runs/:runId/events',
    { schema: { params: runIdParams } },
    async (request, reply) => {
      const { principal } = request;
      const { runId } = request.params;
      let detail = await runDetail(store, client, principal, runId, ctx.temporal);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let open = true;
      request.raw.on('close', () => {
        open = false;
      });
      let sent = '';
      const send = (body: RunDetail) => {
        // A running run's duration grows by itself: only a change of anything else is news.
        const key = JSON.stringify({ ...body, run: { ...body.run, durationMs: 0 } });
        if (key === sent) return;
        sent = key;
        res.write(`event: snapshot\ndata: ${JSON.stringify(body)}\n\n`);
      };
      try {
        send(detail);
        while (open && !closed(detail) && !shutdown.signal.aborted) {
          await pause(ctx.pollMs);
          if (!open || shutdown.signal.aborted) break;
          detail = await runDetail(store, client, principal, runId, ctx.temporal);
          send(detail);
        }
      } catch (error) {
        res.write(`event: error\ndata: ${JSON.stringify({ error: (error as Error).message })}\n\n`);
      } finally {
        res.end();
      }
    },
  );

  app.post<{ Body: StartRunRequest }>(
    '/api/runs',
    {
      schema: {
        body: {
          type: 'object',
          required: ['pipeline'],
          additionalProperties: false,
          properties: {
            pipeline: { type: 'string', minLength: 1, maxLength: 200 },
            params: { type: 'object' },
          },
        },
      },
    },
    async (request, reply): Promise<StartRunResponse> => {
      const { plan, params } = await ctx.pipelines.plan(request.body.pipeline, request.body.params ?? {});
      const handle = await startRunAs(store, request.principal, client, ctx.taskQueue, plan, params, {
        stepModules: ctx.stepModules,
        ...(ctx.kilnHome ? { kilnHome: ctx.kilnHome } : {}),
      });
      reply.code(201);
      return { runId: handle.workflowId };
    },
  );

  app.post<{ Params: { runId: string } }>(
    '/api/runs/:runId/cancel',
    { schema: { params: runIdParams } },
    async (request): Promise<CancelRunResponse> => {
      const { runId } = request.params;
      const subject = `run:${runId}`;
      // Refused (and audited) before Temporal hears of it; an unknown run is a 404 after the check.
      await store.access.authorize(request.principal, 'run.cancel', subject);
      const handle = client.workflow.getHandle<typeof runPipeline>(runId);
      const description = await handle.describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError)
          throw new ApiInputError(`run '${runId}' is not in Temporal; nothing to cancel`, 404);
        throw error;
      });
      if (description.status.name !== 'RUNNING')
        throw new ApiInputError(
          `run '${runId}' is ${description.status.name.toLowerCase()}, not running; only a running run can be cancelled`,
          409,
        );
      await handle.cancel();
      await store.audit.appendAudit(SYSTEM, { actor: request.principal.name, action: 'run.cancel', subject });
      return { runId, cancelled: true };
    },
  );
}
