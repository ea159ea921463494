// The console's HTTP API: every request and response body the server sends or takes, as JSON.
// Types only, importing nothing but the shared state vocabulary, so the web app (browser code)
// and the server (console/server/) compile against the same definitions. Times are ISO-8601
// strings; every error response is `ApiError` with a 4xx or 5xx status.

import type { NodeState, RunState } from '../dsl/states';

export type { NodeState, RunState };

/** The roles of store/schema/access.ts, lowest first; a role holds every right of those below it. */
export type Role = 'viewer' | 'operator' | 'approver' | 'admin';

/** Every error: the message names what is wrong and where (a field, a run id, a gate). */
export interface ApiError {
  error: string;
}

// Sessions -----------------------------------------------------------------------------------

/** `POST /api/session` */
export interface SignInRequest {
  token: string;
}

/** `POST /api/session`, `GET /api/session`. */
export interface SessionResponse {
  principal: {
    name: string;
    /** The role the token holds and every role below it: `['viewer', 'operator']` for an operator. */
    roles: Role[];
  };
  /** Send as header `x-csrf-token` on every POST/PUT/DELETE but sign-in. */
  csrfToken: string;
}

// Pipelines and runs -------------------------------------------------------------------------

export interface PipelineParam {
  name: string;
  type?: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** `GET /api/pipelines` → `PipelineInfo[]`: the pipelines the console can start. */
export interface PipelineInfo {
  name: string;
  /** The pipeline file, relative to the directory the console serves. */
  file: string;
  description?: string;
  params: PipelineParam[];
}

export interface RunSummary {
  runId: string;
  pipeline: string;
  state: RunState;
  startedAt: string;
  finishedAt: string | null;
  /** Until now while the run goes. */
  durationMs: number;
  /** The principal who started it; `system` for a run started by a schedule or a monitor; null when not on record. */
  startedBy: string | null;
  scheduleId: string | null;
}

/** `GET /api/runs?pipeline=&state=&limit=&before=` (newest first). */
export interface RunsPage {
  runs: RunSummary[];
  /** Pass as `before` for the next page; null on the last page. */
  next: string | null;
}

export type GraphNodeKind = 'step' | 'approval' | 'map';

/** A node of the plan's DAG; a map's inner steps are collapsed into the map node. */
export interface GraphNode {
  id: string;
  /** The step's name (`data.readCsv`), the gate's name, or the map's first inner step. */
  step: string;
  kind: GraphNodeKind;
  label: string;
}

export interface GraphEdge {
  from: string;
  to: string;
}

export interface ArtifactRef {
  /** The artifact's sha256 (its id in the store and in lineage). */
  id: string;
  kind: string;
  sha256: string;
}

/** A node's live state. */
export interface NodeDetail {
  state: NodeState;
  attempts: number;
  error?: { type: string; message: string };
  startedAt: string | null;
  finishedAt: string | null;
  /** The last heartbeat's details of a running step (e.g. `{ epoch: 3, loss: 0.41 }`). */
  progress?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  artifacts: ArtifactRef[];
  /** The run and node whose recorded result this step reused. */
  cachedFrom?: { runId: string; node: string };
  mapped?: { done: number; total: number };
  /** For an approval gate: what it shows, and the decision once made. */
  gate?: {
    show: Record<string, unknown>;
    waitingSince: string | null;
    decision?: { approved: boolean; by: string; comment?: string };
  };
}

/** `GET /api/runs/:runId`, and each `event: snapshot` of `GET /api/runs/:runId/events`. */
export interface RunDetail {
  run: RunSummary & {
    params: Record<string, unknown>;
    planHash: string;
    error: { type: string; message: string; node?: string } | null;
  };
  graph: { nodes: GraphNode[]; edges: GraphEdge[] };
  nodes: Record<string, NodeDetail>;
  /** The run in the Temporal Web UI. */
  temporalUrl: string;
}

/** `POST /api/runs` (operator). */
export interface StartRunRequest {
  pipeline: string;
  params?: Record<string, unknown>;
}

/** `POST /api/runs` → */
export interface StartRunResponse {
  runId: string;
}

/** `POST /api/runs/:runId/cancel` (operator) → */
export interface CancelRunResponse {
  runId: string;
  cancelled: true;
}

// Approvals ----------------------------------------------------------------------------------

/** `GET /api/approvals` → `PendingApproval[]`: gates waiting for a decision now. */
export interface PendingApproval {
  runId: string;
  pipeline: string;
  gate: string;
  /** What the pipeline asked the approver to see (metrics, fairness numbers). */
  shown: Record<string, unknown>;
  waitingSince: string | null;
}

/** `POST /api/approvals/:runId/:gate` (approver). */
export interface DecisionRequest {
  decision: 'approve' | 'reject';
  comment?: string;
}

/** `POST /api/approvals/:runId/:gate` → */
export interface DecisionResponse {
  runId: string;
  gate: string;
  approved: boolean;
  by: string;
}

// Models -------------------------------------------------------------------------------------

/** `GET /api/models` → `ModelListItem[]` */
export interface ModelListItem {
  name: string;
  latestVersion: number | null;
  aliases: Record<string, number>;
}

export interface ModelVersionSummary {
  version: number;
  runId: string | null;
  createdAt: string;
  createdBy: string;
  metrics: Record<string, number>;
  aliases: string[];
}

/** `GET /api/models/:name` */
export interface ModelDetail {
  name: string;
  description: string | null;
  aliases: Record<string, number>;
  /** Newest first. */
  versions: ModelVersionSummary[];
}

export interface FairnessGroup {
  group: string;
  count: number;
  selectionRate: number;
  truePositiveRate: number;
  falsePositiveRate: number;
  /** Selection rate divided by the reference group's. */
  disparateImpact: number | null;
}

/** A fairness bar a group or the model is held to: `value` passes when on the right side of `threshold`. */
export interface FairnessGate {
  metric: string;
  value: number;
  threshold: number;
  /** `min`: value must be at least threshold; `max`: at most. */
  bound: 'min' | 'max';
  passes: boolean;
}

/** `GET /api/models/:name/versions/:version` (a version number or an alias). */
export interface ModelVersionDetail {
  name: string;
  version: number;
  runId: string | null;
  artifactSha256: string;
  createdAt: string;
  aliases: string[];
  metrics: Record<string, number>;
  /** From the run's evaluation report; empty arrays when the version has none on record. */
  curves: {
    /** The positive class the curves score (binary), or the first class one-vs-rest. */
    class: string | null;
    roc: Array<{ fpr: number; tpr: number }>;
    pr: Array<{ recall: number; precision: number }>;
    /** Non-empty bins only. */
    calibration: Array<{ predicted: number; observed: number; count: number }>;
  };
  /** counts[true class][predicted class]; null without an evaluation report. */
  confusion: { classes: string[]; counts: number[][] } | null;
  fairness: { groups: FairnessGroup[]; gates: FairnessGate[] } | null;
  /** The robustness report (activities/evaluate/robustness-report.ts) when the run made one. */
  robustness: Record<string, unknown> | null;
  /** The model card (markdown) when the run wrote one. */
  card?: string;
}

/** `POST /api/models/:name/aliases/:alias` (approver): promote. */
export interface PromoteRequest {
  version: number;
  comment?: string;
}

/** `POST /api/models/:name/aliases/:alias` and `.../rollback` → */
export interface AliasMoveResponse {
  model: string;
  alias: string;
  version: number;
  previous: number | null;
  changed: boolean;
}

// Lineage ------------------------------------------------------------------------------------

export type LineageNodeKind = 'artifact' | 'step' | 'run' | 'model';

/** `GET /api/lineage?target=&direction=up|down|both` */
export interface LineageResponse {
  root: string;
  /** True when the walk stopped at its depth limit with more lineage beyond. */
  truncated: boolean;
  nodes: Array<{
    id: string;
    kind: LineageNodeKind;
    label: string;
    /** sha256 of an artifact; a run's plan hash. */
    hash?: string;
    /** The artifact's kind (`dataset`, `model`, `report`), a step's state, a run's state. */
    detail?: string;
  }>;
  edges: Array<{ from: string; to: string; label: string }>;
}

// Deployments and monitoring -----------------------------------------------------------------

export interface DeploymentSummary {
  /** `<model>:<alias>`. */
  name: string;
  model: string;
  alias: string;
  version: number | null;
  split: { mode: 'canary' | 'shadow'; candidateVersion: number; percent: number } | null;
  /** The newest rollout's state (`observing`, `promoted`, `rolled_back`), if any. */
  rollout: { id: string; state: string; at: string } | null;
}

/** `GET /api/deployments/:name` (`<model>:<alias>`). */
export interface DeploymentDetail extends DeploymentSummary {
  history: Array<{ at: string; state: string; version: number | null; by: string }>;
  /** Per minute over the last hour, from the prediction log. */
  series: Array<{ at: string; requests: number; errors: number; p50Ms: number | null; p99Ms: number | null }>;
}

/** `GET /api/monitors` → `MonitorSummary[]` */
export interface MonitorSummary {
  name: string;
  model: string;
  alias: string;
  every: string | null;
  createdBy: string;
  createdAt: string;
  lastWindowEnd: string | null;
  lastDrifted: boolean | null;
}

/** `GET /api/monitors/:name/reports?last=24h` */
export interface MonitorReports {
  name: string;
  windows: Array<{
    start: string;
    end: string;
    status: 'measured' | 'insufficientData' | 'noLineage';
    version: number | null;
    rows: number;
    drifted: boolean;
    /** Drift score per feature (the policy's test statistic); a feature whose drift is judged true is in `driftedFeatures`. */
    drift: Record<string, number | null>;
    driftedFeatures: string[];
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
  }>;
  alerts: Array<{ at: string; kind: 'alert' | 'retrain' | 'rollback'; outcome: string; detail: string }>;
}

// Schedules and audit ------------------------------------------------------------------------

/** `GET /api/schedules` → `ScheduleSummary[]` */
export interface ScheduleSummary {
  id: string;
  pipeline: string | null;
  cron: string[];
  paused: boolean;
  nextRuns: string[];
  recentRuns: Array<{ runId: string; at: string }>;
  note: string | null;
}

export interface AuditEventView {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  before: unknown;
  after: unknown;
  hash: string;
}

/** `GET /api/audit?actor=&action=&since=&limit=&before=` (newest first; `before` is a seq). */
export interface AuditPage {
  events: AuditEventView[];
  next: string | null;
}

/** `GET /api/audit/verify` */
export interface AuditVerifyResponse {
  ok: boolean;
  checked: number;
  firstBad?: { seq: number; reason: string };
}
