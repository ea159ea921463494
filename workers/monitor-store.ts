import type { MonitorStore } from '../activities/monitor/monitor-store';
import { trainingDataset } from '../monitor/lineage';
import { SYSTEM, type Store } from '../store';

// Rows read per window at most: a window holding more is measured on its first rows.
const WINDOW_ROWS = 200_000;

/**
 * The store as a monitor sees it. The worker acts as the system: the monitor was created by an
 * operator, and every action it takes is audited with the monitor's name.
 */
export function monitorStore(store: Store): MonitorStore {
  return {
    async monitor(name) {
      const row = await store.monitoring.getMonitor(SYSTEM, name);
      return {
        id: row.id,
        name: row.name,
        model: row.model,
        alias: row.alias,
        policy: row.policy,
        retrain: row.retrain,
        createdBy: row.createdBy,
      };
    },
    async servedVersion(model, alias) {
      const served = await store.serving.servedVersions(SYSTEM, model, alias);
      if (!served) return null;
      const version = await store.serving.servableVersion(SYSTEM, model, served.current);
      return {
        version: served.current,
        artifact: { sha256: version.artifactSha256, uri: version.uri, kind: version.kind },
      };
    },
    async trainingDataset(model, version) {
      const graph = await store.lineage.upstream(SYSTEM, { model, version });
      const root = graph.nodes.find((n) => n.id === graph.root);
      if (!root || root.type !== 'model') return null;
      return trainingDataset(graph, root.artifactSha256) ?? null;
    },
    async window(model, version, start, end) {
      const rows = await store.serving.listPredictions(SYSTEM, {
        model,
        version,
        since: start,
        until: end,
        limit: WINDOW_ROWS,
      });
      return rows
        .filter((r) => r.served)
        .map((r) => ({
          requestId: r.requestId,
          features: r.features,
          probabilities: r.probabilities,
          label: r.label,
          trueLabel: r.trueLabel,
          latencyMs: r.latencyMs,
        }));
    },
    errors: (model, version, start, end) =>
      store.serving.countPredictionErrors(SYSTEM, { model, version, since: start, until: end }),
    async previousJudged(monitorId, end, exclude) {
      const row = await store.monitoring.previousJudged(SYSTEM, monitorId, end, exclude);
      return row ? { episode: row.episode } : null;
    },
    async saveReport(monitorId, report) {
      const row = await store.monitoring.saveReport(SYSTEM, monitorId, report);
      return { report: row.report, actions: row.actions };
    },
    episodeActions: (monitorId, episode) => store.monitoring.episodeActions(SYSTEM, monitorId, episode),
    async lastActedAt(monitorId, episode) {
      return (await store.monitoring.lastActedAt(SYSTEM, monitorId, episode)) ?? null;
    },
    recordActions: (reportId, monitor, actions) => store.monitoring.recordActions(SYSTEM, reportId, monitor, actions),
    async rollback(model, alias, version) {
      const served = await store.serving.servedVersions(SYSTEM, model, alias);
      // Rolled back already (a retried activity), or moved by someone since: nothing to undo.
      if (served?.current !== version) return null;
      if (served.split) await store.serving.clearTrafficSplit(SYSTEM, model, alias);
      const move = await store.registry.rollback(SYSTEM, model, alias);
      return { from: version, to: move.version };
    },
    async audit(action, subject, after) {
      await store.audit.appendAudit(SYSTEM, { actor: SYSTEM.name, action, subject, after });
    },
  };
}
