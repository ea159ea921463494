import { and, asc, desc, eq, gte, isNotNull, lt, ne, or, sql } from 'drizzle-orm';
import type { MonitorAction, MonitorReport, RetrainPlan } from '../monitor/report';
import type { MonitorPolicy } from '../monitor/policy';
import type { AccessApi, Principal } from './access';
import { appendAuditIn } from './audit';
import { ConflictError, NotFoundError } from './errors';
import { pgErrorCode, type Executor } from './executor';
import { monitorReports, monitors, type Monitor, type MonitorReportRow } from './schema/monitoring';

export interface MonitorInput {
  name: string;
  model: string;
  alias: string;
  policy: MonitorPolicy;
  retrain?: RetrainPlan;
  scheduleId: string;
}

export interface ReportQuery {
  since?: Date;
  until?: Date;
  limit?: number;
}

const subject = (name: string) => `monitor:${name}`;

export const monitoringApi = (db: Executor, access: Pick<AccessApi, 'authorize'>) => {
  async function byName(name: string): Promise<Monitor> {
    const [row] = await db.select().from(monitors).where(eq(monitors.name, name));
    if (!row) throw new NotFoundError('monitor', name, 'see kiln monitor list');
    return row;
  }

  return {
    /** Records a monitor (operator role). Audited. */
    async createMonitor(actor: Principal, input: MonitorInput): Promise<Monitor> {
      await access.authorize(actor, 'monitor.manage', subject(input.name));
      try {
        return await db.transaction(async (tx) => {
          const [row] = await tx
            .insert(monitors)
            .values({ ...input, retrain: input.retrain ?? null, createdBy: actor.name })
            .returning();
          await appendAuditIn(tx, {
            actor: actor.name,
            action: 'monitor.create',
            subject: subject(input.name),
            after: { model: input.model, alias: input.alias, policy: input.policy, schedule: input.scheduleId },
          });
          return row!;
        });
      } catch (error) {
        if (pgErrorCode(error) === '23505')
          throw new ConflictError(
            `monitor '${input.name}' exists already; delete it first (kiln monitor delete ${input.name}) or pick another name`,
            { cause: error },
          );
        throw error;
      }
    },

    /** Deletes a monitor and its reports (operator role). Audited. */
    async deleteMonitor(actor: Principal, name: string): Promise<Monitor> {
      await access.authorize(actor, 'monitor.manage', subject(name));
      return db.transaction(async (tx) => {
        const [row] = await tx.delete(monitors).where(eq(monitors.name, name)).returning();
        if (!row) throw new NotFoundError('monitor', name, 'see kiln monitor list');
        await appendAuditIn(tx, {
          actor: actor.name,
          action: 'monitor.delete',
          subject: subject(name),
          before: { model: row.model, alias: row.alias, policy: row.policy, schedule: row.scheduleId },
        });
        return row;
      });
    },

    async getMonitor(actor: Principal, name: string): Promise<Monitor> {
      await access.authorize(actor, 'read', subject(name));
      return byName(name);
    },

    async listMonitors(actor: Principal): Promise<Monitor[]> {
      await access.authorize(actor, 'read', 'monitors');
      return db.select().from(monitors).orderBy(asc(monitors.name));
    },

    /**
     * Keeps a window's report (the worker's). A window reported already (an activity retried, a
     * run replayed) keeps its first report, which is returned: its episode and actions stand.
     */
    async saveReport(actor: Principal, monitorId: string, report: MonitorReport): Promise<MonitorReportRow> {
      await access.authorize(actor, 'record', subject(report.monitor));
      const values = {
        id: report.id,
        monitorId,
        windowStart: new Date(report.window.start),
        windowEnd: new Date(report.window.end),
        status: report.status,
        version: report.version,
        rows: report.rows,
        drifted: report.drifted,
        share: report.share,
        features: report.features,
        latencyP50Ms: report.latency.p50Ms,
        latencyP99Ms: report.latency.p99Ms,
        accuracy: report.accuracy,
        rocAuc: report.rocAuc,
        episode: report.episode,
        report,
      };
      const [inserted] = await db.insert(monitorReports).values(values).onConflictDoNothing().returning();
      if (inserted) return inserted;
      const [existing] = await db
        .select()
        .from(monitorReports)
        .where(
          and(
            eq(monitorReports.monitorId, monitorId),
            eq(monitorReports.windowStart, values.windowStart),
            eq(monitorReports.windowEnd, values.windowEnd),
          ),
        );
      return existing!;
    },

    /**
     * The last judged window (measured, or in an episode: its error rate exceeded) that ended at or
     * before `end`, other than `exclude`: whether an episode goes on.
     */
    async previousJudged(
      actor: Principal,
      monitorId: string,
      end: Date,
      exclude?: string,
    ): Promise<MonitorReportRow | undefined> {
      await access.authorize(actor, 'read', 'monitors');
      const [row] = await db
        .select()
        .from(monitorReports)
        .where(
          and(
            eq(monitorReports.monitorId, monitorId),
            or(eq(monitorReports.status, 'measured'), isNotNull(monitorReports.episode)),
            sql`${monitorReports.windowEnd} <= ${end.toISOString()}`,
            exclude ? ne(monitorReports.id, exclude) : undefined,
          ),
        )
        .orderBy(desc(monitorReports.windowEnd), desc(monitorReports.createdAt))
        .limit(1);
      return row;
    },

    /** Every action recorded in a drift episode's windows, oldest window first. */
    async episodeActions(actor: Principal, monitorId: string, episode: string): Promise<MonitorAction[]> {
      await access.authorize(actor, 'read', 'monitors');
      const rows = await db
        .select({ actions: monitorReports.actions })
        .from(monitorReports)
        .where(and(eq(monitorReports.monitorId, monitorId), eq(monitorReports.episode, episode)))
        .orderBy(asc(monitorReports.windowEnd));
      return rows.flatMap((r) => r.actions);
    },

    /** When the monitor last acted (an action done) in another episode than `episode`, for the cooldown. */
    async lastActedAt(actor: Principal, monitorId: string, episode: string): Promise<Date | undefined> {
      await access.authorize(actor, 'read', 'monitors');
      const rows = await db
        .select({ actions: monitorReports.actions })
        .from(monitorReports)
        .where(
          and(
            eq(monitorReports.monitorId, monitorId),
            isNotNull(monitorReports.episode),
            ne(monitorReports.episode, episode),
            sql`jsonb_path_exists(${monitorReports.actions}, '$[*] ? (@.outcome == "done")')`,
          ),
        )
        .orderBy(desc(monitorReports.windowEnd))
        .limit(1);
      const at = rows[0]?.actions.filter((a) => a.outcome === 'done').map((a) => a.at);
      return at?.length ? new Date(at.sort().at(-1)!) : undefined;
    },

    /** Appends what the monitor did about a window to its report row. */
    async recordActions(actor: Principal, reportId: string, monitor: string, actions: MonitorAction[]): Promise<void> {
      await access.authorize(actor, 'record', subject(monitor));
      if (actions.length === 0) return;
      await db
        .update(monitorReports)
        .set({ actions: sql`${monitorReports.actions} || ${JSON.stringify(actions)}::jsonb` })
        .where(eq(monitorReports.id, reportId));
    },

    /** A monitor's reports in a time range (by window end), oldest first (viewer role). */
    async listReports(actor: Principal, name: string, query: ReportQuery = {}): Promise<MonitorReportRow[]> {
      await access.authorize(actor, 'read', subject(name));
      const monitor = await byName(name);
      return db
        .select()
        .from(monitorReports)
        .where(
          and(
            eq(monitorReports.monitorId, monitor.id),
            query.since ? gte(monitorReports.windowEnd, query.since) : undefined,
            query.until ? lt(monitorReports.windowEnd, query.until) : undefined,
          ),
        )
        .orderBy(asc(monitorReports.windowEnd), asc(monitorReports.createdAt))
        .limit(query.limit ?? 10_000);
    },
  };
};
export type MonitoringApi = ReturnType<typeof monitoringApi>;
