import type { PipelinePlan } from '../dsl/plan';
import { quantile } from '../activities/common/metrics/quantile';
import { rocAuc } from '../activities/common/metrics/classification';
import { datasetDrift, predictionDrift, type Column, type DriftSchema, type FeatureDrift } from './drift';
import type { MonitorPolicy } from './policy';

export type { MonitorPolicy } from './policy';

/** The run a monitor starts to retrain: the pipeline compiled when the monitor was created. */
export interface RetrainPlan {
  /** The pipeline file it was compiled from, for people reading the monitor. */
  pipeline: string;
  plan: PipelinePlan;
  params: Record<string, unknown>;
}

/** What a monitor did (or chose not to do) about a window, as kept in its report row. */
export interface MonitorAction {
  kind: 'alert' | 'retrain' | 'rollback';
  outcome: 'done' | 'skipped' | 'failed';
  detail: string;
  at: string;
  /** The retraining run's workflow id. */
  workflowId?: string;
}

/** One window of a monitor, measured against the model's training dataset. */
export interface MonitorReport {
  /** The report row's id. */
  id: string;
  monitor: string;
  model: string;
  alias: string;
  /** The version the alias served during the window (its rows are the ones measured). */
  version: number;
  window: { start: string; end: string };
  /**
   * `measured`; `insufficientData` when the window logged fewer than `minRows` rows; `noLineage`
   * when the version has no training dataset on record. Drift is acted on in a measured window,
   * an exceeded error rate in any.
   */
  status: 'measured' | 'insufficientData' | 'noLineage';
  /** Why the window was not measured, in a sentence. */
  reason?: string;
  rows: number;
  minRows: number;
  /** The training dataset artifact compared with, found through lineage. */
  reference: { sha256: string; rows: number } | null;
  drifted: boolean;
  /** Drifting features over judged ones. */
  share: number | null;
  driftShare: number;
  features: Record<string, FeatureDrift>;
  /** Features logged as keyed hashes, or tagged sensitive in the training dataset: not judged. */
  masked: string[];
  /** Features of the training dataset that no row of the window carried: not judged. */
  absent: string[];
  /** Drift of the predicted probability of the positive class (or of the predicted class). */
  prediction: FeatureDrift | null;
  latency: { p50Ms: number | null; p99Ms: number | null };
  /** Requests the version failed to score in the window (from prediction_errors). */
  errors: number;
  /** Failed requests over all requests, answered and failed; null when the window had none. */
  errorRate: number | null;
  /** The error rate is above the policy's maxErrorRate over at least minRows requests: acted on as drift is. */
  errorRateExceeded: boolean;
  /** Rows whose true label arrived through feedback, and the model's scores on them. */
  labelled: number;
  accuracy: number | null;
  rocAuc: number | null;
  /** The episode (the id of its first report) of a drifting or unhealthy window, and of those after it until one is neither. */
  episode: string | null;
}

/** The training rows and what is known of the model, to compare a window with. */
export interface Reference {
  columns: ReadonlyArray<{ name: string; type: 'number' | 'integer' | 'boolean' | 'string'; sensitive?: true }>;
  rows: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** The label column, left out of the features. */
  label: string | null;
  /** The model's classes (binary: classes[1] is the positive one), when the model says. */
  classes: string[] | null;
  /** The model's scores on the training rows, for prediction drift: a probability or a class each. */
  predictions: Column | null;
}

/** A logged row, as the monitor reads it. */
export interface WindowRow {
  requestId: string;
  features: Record<string, unknown>;
  probabilities: number[];
  label: string;
  trueLabel: string | null;
  latencyMs: number;
}

/** The measured part of a report: drift, latency and accuracy of one window. */
export type WindowMeasures = Pick<
  MonitorReport,
  | 'drifted'
  | 'share'
  | 'driftShare'
  | 'features'
  | 'masked'
  | 'absent'
  | 'prediction'
  | 'latency'
  | 'labelled'
  | 'accuracy'
  | 'rocAuc'
>;

const MASKED = /^hmac-sha256:/;

const numeric = (values: Iterable<unknown>) =>
  Float64Array.from(values, (v) => (v === null || v === undefined || v === '' ? NaN : Number(v)));
const categorical = (values: Iterable<unknown>) =>
  Array.from(values, (v) => (v === null || v === undefined ? null : String(v)));

/**
 * Compares a window of logged rows with the training dataset: per-feature and dataset drift by
 * the policy, prediction drift, latency p50/p99, and accuracy and ROC AUC on labelled rows.
 */
export function measureWindow(reference: Reference, rows: readonly WindowRow[], policy: MonitorPolicy): WindowMeasures {
  const schema: Record<string, 'numeric' | 'categorical'> = {};
  const masked: string[] = [];
  const absent: string[] = [];
  const refColumns: Record<string, Column> = {};
  const curColumns: Record<string, Column> = {};
  for (const column of reference.columns) {
    if (column.name === reference.label) continue;
    const values = rows.map((r) => r.features[column.name]);
    if (values.every((v) => v === undefined)) {
      absent.push(column.name);
      continue;
    }
    // Tagged sensitive in the training data, or logged hashed: the reference's values are not to be shown either.
    if (column.sensitive || values.some((v) => typeof v === 'string' && MASKED.test(v))) {
      masked.push(column.name);
      continue;
    }
    const kind = column.type === 'number' || column.type === 'integer' ? 'numeric' : 'categorical';
    const convert = kind === 'numeric' ? numeric : categorical;
    schema[column.name] = kind;
    refColumns[column.name] = convert(reference.rows.map((r) => r[column.name]));
    curColumns[column.name] = convert(values);
  }
  const overrides = Object.fromEntries(
    Object.entries(policy.features ?? {}).map(([name, o]) => [
      name,
      { ...(o.test ? { test: o.test } : {}), ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) },
    ]),
  );
  const drift = datasetDrift(refColumns, curColumns, schema as DriftSchema, {
    driftShare: policy.driftShare,
    features: overrides,
  });

  const positive = reference.classes?.length === 2 ? 1 : null;
  let prediction: FeatureDrift | null = null;
  if (reference.predictions && rows.length > 0)
    prediction = predictionDrift(
      reference.predictions,
      reference.predictions instanceof Float64Array
        ? Float64Array.from(rows, (r) => r.probabilities[positive ?? 0] ?? NaN)
        : rows.map((r) => r.label),
    );

  const latencies = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
  const labelled = rows.filter((r) => r.trueLabel !== null);
  const yTrue = labelled.map((r) => (r.trueLabel === reference.classes?.[1] ? 1 : 0));
  const bothClasses = yTrue.includes(0) && yTrue.includes(1);
  return {
    drifted: drift.drifted,
    share: drift.status === 'measured' ? drift.share : null,
    driftShare: drift.driftShare,
    features: drift.features,
    masked,
    absent,
    prediction,
    latency: {
      p50Ms: latencies.length ? quantile(latencies, 0.5) : null,
      p99Ms: latencies.length ? quantile(latencies, 0.99) : null,
    },
    labelled: labelled.length,
    accuracy: labelled.length ? labelled.filter((r) => r.label === r.trueLabel).length / labelled.length : null,
    rocAuc:
      positive !== null && bothClasses
        ? rocAuc(
            yTrue,
            labelled.map((r) => r.probabilities[positive] ?? NaN),
          )
        : null,
  };
}

/**
 * The window's error rate: failed requests over answered and failed ones. It is judged against
 * the policy's maxErrorRate once the window holds minRows requests, so a version failing every
 * request (and logging no rows to measure drift on) is still caught.
 */
export function errorRateOf(
  rows: readonly Pick<WindowRow, 'requestId'>[],
  errors: number,
  policy: Pick<MonitorPolicy, 'maxErrorRate' | 'minRows'>,
): Pick<MonitorReport, 'errors' | 'errorRate' | 'errorRateExceeded'> {
  const requests = new Set(rows.map((r) => r.requestId)).size + errors;
  const errorRate = requests > 0 ? errors / requests : null;
  return {
    errors,
    errorRate,
    errorRateExceeded:
      policy.maxErrorRate !== undefined &&
      errorRate !== null &&
      requests >= policy.minRows &&
      errorRate > policy.maxErrorRate,
  };
}
