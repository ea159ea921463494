import type { FastifyInstance } from 'fastify';
import { and, desc, eq, gte, sql } from 'drizzle-orm';
import type { Principal, Store } from '../../../store';
import { models, modelVersions } from '../../../store/schema/registry';
import { predictionErrors, predictions } from '../../../store/schema/serving';
import { deployments } from '../../../store/schema/decisions';
import type { RunInput } from '../../../workflows/protocol';
import { monitorReports } from '../../../cli/monitors';
import { governed, listSchedules } from '../../../cli/schedules';
import type { DeploymentDetail, DeploymentSummary, MonitorReports, MonitorSummary, ScheduleSummary } from '../../api';
import type { ConsoleContext } from '../context';
import { ApiInputError } from '../errors';
import { durationParam, textParams } from '../input';

const SERIES_WINDOW_MS = 60 * 60 * 1000;

/** Every alias of every model is a deployment `<model>:<alias>`, with its traffic split and newest rollout. */
async function deploymentSummaries(store: Store, actor: Principal, only?: { model: string; alias: string }) {
  const rows = await store.serving.aliasRoutes(actor, only);
  const history = await store.db
    .select({
      key: deployments.key,
      model: models.name,
      alias: deployments.target,
      version: modelVersions.version,
      status: deployments.status,
      by: deployments.deployedBy,
      at: deployments.deployedAt,
    })
    .from(deployments)
    .innerJoin(modelVersions, eq(modelVersions.id, deployments.modelVersionId))
    .innerJoin(models, eq(models.id, modelVersions.modelId))
    .where(only ? and(eq(models.name, only.model), eq(deployments.target, only.alias)) : undefined)
    .orderBy(desc(deployments.deployedAt));
  const summaries: DeploymentSummary[] = rows.map((r) => {
    const newest = history.find((h) => h.model === r.model && h.alias === r.alias);
    return {
      name: `${r.model}:${r.alias}`,
      model: r.model,
      alias: r.alias,
      version: r.current,
      split:
        r.mode && r.candidate !== null ? { mode: r.mode, candidateVersion: r.candidate, percent: r.percent! } : null,
      rollout: newest ? { id: newest.key, state: newest.status, at: newest.at.toISOString() } : null,
    };
  });
  return { summaries, history };
}

/** Requests, errors and latency per minute over the last hour, from the prediction and error logs. */
async function series(store: Store, model: string, now = new Date()) {
  const since = new Date(now.getTime() - SERIES_WINDOW_MS);
  const minute = sql<string>`date_trunc('minute', ${predictions.at})`;
  const served = await store.db
    .select({
      at: sql<string>`${minute}::text`,
      requests: sql<number>`count(distinct ${predictions.requestId})::int`,
      p50: sql<number | null>`percentile_cont(0.5) within group (order by ${predictions.latencyMs})`,
      p99: sql<number | null>`percentile_cont(0.99) within group (order by ${predictions.latencyMs})`,
    })
    .from(predictions)
    .where(and(eq(predictions.model, model), gte(predictions.at, since)))
    .groupBy(minute)
    .orderBy(minute);
  const errorMinute = sql<string>`date_trunc('minute', ${predictionErrors.at})`;
  const failed = await store.db
    .select({ at: sql<string>`${errorMinute}::text`, errors: sql<number>`count(*)::int` })
    .from(predictionErrors)
    .where(and(eq(predictionErrors.model, model), gte(predictionErrors.at, since)))
    .groupBy(errorMinute);
  const byMinute = new Map<string, DeploymentDetail['series'][number]>();
  const iso = (text: string) => new Date(text).toISOString();
  for (const s of served)
    byMinute.set(iso(s.at), {
      at: iso(s.at),
      requests: s.requests,
      errors: 0,
      p50Ms: s.p50 === null ? null : Number(s.p50),
      p99Ms: s.p99 === null ? null : Number(s.p99),
    });
  for (const f of failed) {
    const at = iso(f.at);
    const point = byMinute.get(at) ?? { at, requests: 0, errors: 0, p50Ms: null, p99Ms: null };
    byMinute.set(at, { ...point, errors: f.errors });
  }
  return [...byMinute.values()].sort((a, b) => a.at.localeCompare(b.at));
}

export function operationRoutes(app: FastifyInstance, { store, client }: ConsoleContext) {
  app.get('/api/deployments', async (request): Promise<DeploymentSummary[]> => {
    return (await deploymentSummaries(store, request.principal)).summaries;
  });

  app.get<{ Params: { name: string } }>(
    '/api/deployments/:name',
    {
      schema: { params: textParams({ name: 300 }, ['name']) },
    },
    async (request): Promise<DeploymentDetail> => {
      const { name } = request.params;
      const at = name.lastIndexOf(':');
      if (at <= 0 || at === name.length - 1)
        throw new ApiInputError(`deployment '${name}' must be named <model>:<alias>, e.g. credit-risk:production`);
      const only = { model: name.slice(0, at), alias: name.slice(at + 1) };
      const { summaries, history } = await deploymentSummaries(store, request.principal, only);
      const summary = summaries[0];
      if (!summary) throw new ApiInputError(`deployment '${name}' is not in the store: no such model alias`, 404);
      return {
        ...summary,
        history: history.map((h) => ({ at: h.at.toISOString(), state: h.status, version: h.version, by: h.by })),
        series: await series(store, only.model),
      };
    },
  );

  app.get('/api/monitors', async (request): Promise<MonitorSummary[]> => {
    const monitors = await store.monitoring.listMonitors(request.principal);
    return Promise.all(
      monitors.map(async (m) => {
        const [last] = (await store.monitoring.listReports(request.principal, m.name)).slice(-1);
        return {
          name: m.name,
          model: m.model,
          alias: m.alias,
          every: m.policy.every ?? null,
          createdBy: m.createdBy,
          createdAt: m.createdAt.toISOString(),
          lastWindowEnd: last?.windowEnd.toISOString() ?? null,
          lastDrifted: last?.drifted ?? null,
        };
      }),
    );
  });

  app.get<{ Params: { name: string }; Querystring: { last?: string } }>(
    '/api/monitors/:name/reports',
    { schema: { params: textParams({ name: 200 }, ['name']), querystring: textParams({ last: 20 }) } },
    async (request): Promise<MonitorReports> => {
      const last = request.query.last ?? '24h';
      durationParam('last', last);
      const rows = await monitorReports(store, request.principal, request.params.name, last);
      return {
        name: request.params.name,
        windows: rows.map((r) => ({
          start: r.windowStart.toISOString(),
          end: r.windowEnd.toISOString(),
          status: r.status,
          version: r.version,
          rows: r.rows,
          drifted: r.drifted,
          drift: Object.fromEntries(
            Object.entries(r.features).map(([f, d]) => [f, d.status === 'measured' ? d.score : null]),
          ),
          driftedFeatures: Object.entries(r.features)
            .filter(([, d]) => d.drifted)
            .map(([f]) => f),
          latencyP50Ms: r.latencyP50Ms,
          latencyP99Ms: r.latencyP99Ms,
        })),
        alerts: rows.flatMap((r) =>
          r.actions.map((a) => ({ at: a.at, kind: a.kind, outcome: a.outcome, detail: a.detail })),
        ),
      };
    },
  );

  app.get('/api/schedules', async (request): Promise<ScheduleSummary[]> => {
    const all = await governed(store, request.principal, { action: 'read', schedule: '*' }, () =>
      listSchedules(client),
    );
    return all.map((s) => {
      const input = (s.action as { args?: unknown[] } | undefined)?.args?.[0] as RunInput | undefined;
      return {
        id: s.scheduleId,
        pipeline: (s.memo?.pipeline as string | undefined) ?? input?.plan.name ?? null,
        cron: s.spec?.calendars?.map((c) => JSON.stringify(c)) ?? [],
        paused: s.state.paused,
        nextRuns: s.info.nextActionTimes.map((t) => t.toISOString()),
        recentRuns: s.info.recentActions.map((a) => ({
          runId: a.action.workflow.workflowId,
          at: a.takenAt.toISOString(),
        })),
        note: s.state.note ?? null,
      };
    });
  });
}
