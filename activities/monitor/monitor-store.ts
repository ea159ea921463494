import type { MonitorAction, MonitorReport, RetrainPlan, WindowRow } from '../../monitor/report';
import type { MonitorPolicy } from '../../monitor/policy';

/** A monitor as its workflow reads it. */
export interface MonitorConfig {
  id: string;
  name: string;
  model: string;
  alias: string;
  policy: MonitorPolicy;
  retrain: RetrainPlan | null;
  createdBy: string;
}

/** What a monitor needs of the store, in one place: the worker adapts its store to this. */
export interface MonitorStore {
  /** The monitor by name; throws a NotFoundError when there is none. */
  monitor(name: string): Promise<MonitorConfig>;
  /** The version an alias serves now and its artifact; null when the alias is unset. */
  servedVersion(
    model: string,
    alias: string,
  ): Promise<{ version: number; artifact: { sha256: string; uri: string; kind: string } } | null>;
  /** The dataset the version was trained on, through lineage; null when lineage has none. */
  trainingDataset(model: string, version: number): Promise<{ sha256: string; uri: string } | null>;
  /** The rows the version answered (served to callers) in [start, end), with the labels that arrived. */
  window(model: string, version: number, start: Date, end: Date): Promise<WindowRow[]>;
  /** Requests the version failed to score in [start, end). */
  errors(model: string, version: number, start: Date, end: Date): Promise<number>;
  /**
   * The last judged window of the monitor ending by `end` (measured, or with an exceeded error
   * rate), other than `exclude`: its episode goes on when it had one.
   */
  previousJudged(monitorId: string, end: Date, exclude?: string): Promise<{ episode: string | null } | null>;
  /** Keeps a window's report; a window reported already returns its first report and its actions. */
  saveReport(monitorId: string, report: MonitorReport): Promise<{ report: MonitorReport; actions: MonitorAction[] }>;
  episodeActions(monitorId: string, episode: string): Promise<MonitorAction[]>;
  lastActedAt(monitorId: string, episode: string): Promise<Date | null>;
  recordActions(reportId: string, monitor: string, actions: MonitorAction[]): Promise<void>;
  /**
   * Rolls the alias back to its previous holder and clears its traffic split, when it still
   * serves `version` (else returns null: rolled back already, or moved on since). Audited.
   */
  rollback(model: string, alias: string, version: number): Promise<{ from: number; to: number } | null>;
  audit(action: string, subject: string, after: Record<string, unknown>): Promise<void>;
}
