import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { durationMs } from '../../dsl/duration';
import { FailureTypes } from '../../dsl/failures';
import { DriftInputError, type Column } from '../../monitor/drift';
import { webhookUrl } from '../../monitor/policy';
import {
  errorRateOf,
  measureWindow,
  type MonitorAction,
  type MonitorReport,
  type Reference,
} from '../../monitor/report';
import type { runPipeline } from '../../workflows/run-pipeline';
import type { ArtifactStore } from '../artifacts/store';
import { loadDataset } from '../common/dataset/dataset';
import { loadModel } from '../common/model/model';
import { predictProba } from '../common/model/predict';
import type { MonitorConfig, MonitorStore } from './monitor-store';

/** Which window to measure: [start, end); without `start`, the monitor's `every` before `end`. */
export interface MonitorWindowInput {
  monitor: string;
  end: string;
  start?: string;
}

const WEBHOOK_TIMEOUT_MS = 10_000;
/** Well inside the workflow's heartbeatTimeout (workflows/monitor.ts). */
const HEARTBEAT_MS = 3_000;

/**
 * Heartbeats while `work` runs, so that Temporal notices a worker killed mid-window within the
 * heartbeat timeout and retries the activity on another, instead of after the 5-minute limit.
 */
async function beating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
// Training sets are read and scored once per (dataset, model), not every window.
const REFERENCE_CACHE = 4;

/** The workflow id of the one retraining run a drift episode starts. */
export const retrainWorkflowId = (monitor: string, episode: string) => `monitor-${monitor}-retrain-${episode}`;

/** The activities of workflows/monitor.ts. `store` is absent on a worker without one: monitors then fail clearly. */
export const monitorActivities = (deps: { store?: MonitorStore; artifacts: ArtifactStore }) => {
  const references = new Map<string, Promise<Reference>>();
  const need = () => {
    if (!deps.store)
      throw ApplicationFailure.nonRetryable(
        'a monitor needs a store (the prediction log, lineage and registry); start the worker with one',
        FailureTypes.StoreRequired,
      );
    return deps.store;
  };

  async function monitorNamed(name: string): Promise<MonitorConfig> {
    try {
      return await need().monitor(name);
    } catch (error) {
      if ((error as Error).name === 'NotFoundError')
        throw ApplicationFailure.nonRetryable((error as Error).message, FailureTypes.NotFound);
      throw error;
    }
  }

  async function readReference(
    dataset: { sha256: string; uri: string },
    artifact: { sha256: string; uri: string; kind: string },
  ) {
    const { columns, rows } = await loadDataset(deps.artifacts, dataset);
    if (artifact.kind !== 'model') return { columns, rows, label: null, classes: null, predictions: null };
    const spec = await loadModel(deps.artifacts, artifact.uri);
    let predictions: Column | null = null;
    if (spec.task === 'binary') predictions = Float64Array.from(predictProba(spec, rows), (p) => p[1]!);
    else if (spec.task === 'multiclass')
      predictions = predictProba(spec, rows).map((p) => spec.classes[p.indexOf(Math.max(...p))] ?? null);
    return { columns, rows, label: spec.label, classes: spec.task === 'regression' ? null : spec.classes, predictions };
  }

  function reference(
    dataset: { sha256: string; uri: string },
    artifact: { sha256: string; uri: string; kind: string },
  ) {
    const key = `${dataset.sha256}:${artifact.sha256}`;
    let found = references.get(key);
    if (!found) {
      found = readReference(dataset, artifact);
      found.catch(() => references.delete(key));
      references.set(key, found);
      if (references.size > REFERENCE_CACHE) references.delete(references.keys().next().value!);
    }
    return found;
  }

  async function alert(config: MonitorConfig, report: MonitorReport, webhook: string): Promise<MonitorAction> {
    const at = new Date().toISOString();
    // Checked again here: a policy stored before the check existed must not reach other schemes.
    if (!webhookUrl.safeParse(webhook).success)
      return { kind: 'alert', outcome: 'failed', detail: `webhook ${webhook} is not an http(s) URL`, at };
    try {
      const response = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${config.name}/${report.episode}/alert` },
        body: JSON.stringify({ kind: 'kiln.monitor.drift', monitor: config.name, episode: report.episode, report }),
        redirect: 'error',
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      if (!response.ok)
        return { kind: 'alert', outcome: 'failed', detail: `webhook answered HTTP ${response.status}`, at };
      return { kind: 'alert', outcome: 'done', detail: `posted the report to ${new URL(webhook).origin}`, at };
    } catch (error) {
      return { kind: 'alert', outcome: 'failed', detail: `webhook POST failed: ${(error as Error).message}`, at };
    }
  }

  async function retrain(config: MonitorConfig, report: MonitorReport): Promise<MonitorAction> {
    const at = new Date().toISOString();
    const workflowId = retrainWorkflowId(config.name, report.episode!);
    const { client, info } = Context.current();
    const plan = config.retrain!;
    try {
      await client.workflow.start<typeof runPipeline>('runPipeline', {
        taskQueue: info.taskQueue,
        workflowId,
        args: [{ plan: plan.plan, params: plan.params, options: {} }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { monitor: config.name, episode: report.episode, pipeline: plan.plan.name },
      });
      return {
        kind: 'retrain',
        outcome: 'done',
        detail: `started ${plan.plan.name} (${plan.pipeline})`,
        at,
        workflowId,
      };
    } catch (error) {
      // A retried activity finds the run it started: the episode still has one retraining.
      if (error instanceof WorkflowExecutionAlreadyStartedError)
        return { kind: 'retrain', outcome: 'done', detail: `${plan.plan.name} was started already`, at, workflowId };
      throw error;
    }
  }

  async function rollback(config: MonitorConfig, report: MonitorReport): Promise<MonitorAction> {
    const at = new Date().toISOString();
    try {
      const moved = await need().rollback(config.model, config.alias, report.version);
      if (!moved)
        return {
          kind: 'rollback',
          outcome: 'skipped',
          detail: `'${config.alias}' no longer serves version ${report.version}`,
          at,
        };
      return {
        kind: 'rollback',
        outcome: 'done',
        detail: `'${config.alias}' moved from ${moved.from} back to ${moved.to}`,
        at,
      };
    } catch (error) {
      return { kind: 'rollback', outcome: 'failed', detail: (error as Error).message, at };
    }
  }

  async function measure(input: MonitorWindowInput): Promise<MonitorReport> {
    const store = need();
    const config = await monitorNamed(input.monitor);
    const end = new Date(input.end);
    const start = input.start ? new Date(input.start) : new Date(end.getTime() - durationMs(config.policy.every)!);
    if (!(start < end))
      throw ApplicationFailure.nonRetryable(
        `monitor ${config.name}: window start ${start.toISOString()} is not before its end ${end.toISOString()}`,
        FailureTypes.InvalidInput,
      );
    const served = await store.servedVersion(config.model, config.alias);
    if (!served)
      throw ApplicationFailure.nonRetryable(
        `monitor ${config.name}: '${config.alias}' of model '${config.model}' serves no version; promote one first`,
        FailureTypes.NotFound,
      );
    const id = randomUUID();
    const base: MonitorReport = {
      id,
      monitor: config.name,
      model: config.model,
      alias: config.alias,
      version: served.version,
      window: { start: start.toISOString(), end: end.toISOString() },
      status: 'measured',
      rows: 0,
      minRows: config.policy.minRows,
      reference: null,
      drifted: false,
      share: null,
      driftShare: config.policy.driftShare,
      features: {},
      masked: [],
      absent: [],
      prediction: null,
      latency: { p50Ms: null, p99Ms: null },
      errors: 0,
      errorRate: null,
      errorRateExceeded: false,
      labelled: 0,
      accuracy: null,
      rocAuc: null,
      episode: null,
    };
    const rows = await store.window(config.model, served.version, start, end);
    const errors = errorRateOf(rows, await store.errors(config.model, served.version, start, end), config.policy);
    // An unhealthy window opens an episode, or goes on with the last one, whatever else is measured.
    const episodeOf = async (judged: boolean) => {
      if (!judged) return null;
      const previous = await store.previousJudged(config.id, start, id);
      return previous?.episode ?? id;
    };
    const save = async (report: MonitorReport) =>
      (
        await store.saveReport(config.id, {
          ...report,
          ...errors,
          episode: await episodeOf(report.drifted || errors.errorRateExceeded),
        })
      ).report;

    const dataset = await store.trainingDataset(config.model, served.version);
    if (!dataset)
      return save({
        ...base,
        status: 'noLineage',
        reason: `${config.model}@${served.version} has no training lineage: no recorded step produced its artifact from a dataset, so there is nothing to compare with; register models from a pipeline run`,
      });
    if (rows.length < config.policy.minRows)
      return save({
        ...base,
        status: 'insufficientData',
        rows: rows.length,
        reason: `${rows.length} logged row(s) in the window, fewer than minRows ${config.policy.minRows}`,
      });
    const ref = await reference(dataset, served.artifact);
    let measures;
    try {
      measures = measureWindow(ref, rows, config.policy);
    } catch (error) {
      if (error instanceof DriftInputError)
        throw ApplicationFailure.nonRetryable(`monitor ${config.name}: ${error.message}`, FailureTypes.InvalidInput);
      throw error;
    }
    return save({
      ...base,
      ...measures,
      rows: rows.length,
      reference: { sha256: dataset.sha256, rows: ref.rows.length },
    });
  }

  async function act(report: MonitorReport): Promise<MonitorAction[]> {
    // Only a drifting (measured) or unhealthy window has an episode.
    if (!report.episode) return [];
    const store = need();
    const config = await monitorNamed(report.monitor);
    const { actions: policy, cooldown } = config.policy;
    const wanted: MonitorAction['kind'][] = [
      ...(policy.alert ? (['alert'] as const) : []),
      ...(policy.rollback ? (['rollback'] as const) : []),
      ...(policy.retrain && config.retrain ? (['retrain'] as const) : []),
    ];
    if (wanted.length === 0) return [];
    const at = new Date().toISOString();
    const done = new Set(
      (await store.episodeActions(config.id, report.episode)).filter((a) => a.outcome === 'done').map((a) => a.kind),
    );
    const actions: MonitorAction[] = [];
    const last = done.size === 0 ? await store.lastActedAt(config.id, report.episode) : null;
    const until = last ? last.getTime() + durationMs(cooldown)! : 0;
    for (const kind of wanted) {
      if (done.has(kind)) {
        actions.push({ kind, outcome: 'skipped', detail: 'done already in this drift episode', at });
        continue;
      }
      if (until > new Date(report.window.end).getTime()) {
        actions.push({
          kind,
          outcome: 'skipped',
          detail: `in the cooldown (${cooldown}) after the last action at ${last!.toISOString()}`,
          at,
        });
        continue;
      }
      const action =
        kind === 'alert'
          ? await alert(config, report, policy.alert!.webhook)
          : kind === 'rollback'
            ? await rollback(config, report)
            : await retrain(config, report);
      actions.push(action);
      if (action.outcome !== 'skipped')
        await store.audit(`monitor.${kind}${action.outcome === 'failed' ? '.failed' : ''}`, `monitor:${config.name}`, {
          episode: report.episode,
          report: report.id,
          model: config.model,
          alias: config.alias,
          version: report.version,
          share: report.share,
          detail: action.detail,
          ...(action.workflowId ? { workflowId: action.workflowId } : {}),
        });
    }
    await store.recordActions(report.id, config.name, actions);
    return actions;
  }

  return {
    /** Measures one window against the training dataset found through lineage, and keeps the report. */
    'monitor.measure': (input: MonitorWindowInput): Promise<MonitorReport> => beating(() => measure(input)),

    /**
     * Applies the policy to a drifting or unhealthy window: alert, roll back, start a retraining run; each
     * at most once per episode, and none in a new episode within the cooldown of the last
     * action. Returns (and records) what it did and why it skipped the rest.
     */
    'monitor.act': (report: MonitorReport): Promise<MonitorAction[]> => beating(() => act(report)),
  };
};
export type MonitorActivities = ReturnType<typeof monitorActivities>;
