import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import { durationMs } from '../dsl/duration';
import { checkPolicy, MonitorPolicyError, parsePolicy, type MonitorPolicy } from '../monitor/policy';
import type { RetrainPlan } from '../monitor/report';
import type { Principal, Store } from '../store';
import { appendAuditIn } from '../store/audit';
import type { Monitor, MonitorReportRow } from '../store/schema/monitoring';
import { monitorWindow, type MonitorWindowResult } from '../workflows';
import { checkScheduleName, schedulePlan, scheduleSpec, ScheduleInputError } from './schedules';

/** The Temporal Schedule of a monitor. */
export const monitorScheduleId = (name: string) => `monitor-${name}`;

export interface CreateMonitorRequest {
  /** `model` or `model@alias` (alias `production` when left out). */
  target: string;
  /** The monitor's name; the model's name (with `-alias` for another alias than production) by default. */
  name?: string;
  policyFile: string;
  /** Overrides the policy's `every`. */
  every?: string;
  /** Five-field cron expressions, instead of `every`. */
  cron?: string[];
  /** Create the schedule paused: no window is measured until it is unpaused. */
  paused?: boolean;
}

/** Splits `model@alias`; the alias is `production` when left out. */
export function parseMonitorTarget(target: string): { model: string; alias: string } {
  const [model, alias = 'production', extra] = target.split('@');
  if (!model || !alias || extra !== undefined)
    throw new ScheduleInputError(
      `'${target}' is not a model to monitor; write model or model@alias, e.g. credit-risk@production`,
    );
  return { model, alias };
}

/** Reads and checks a policy file; `every` from the command line wins over the file's. */
export async function readPolicy(file: string, every?: string): Promise<MonitorPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MonitorPolicyError(file, `cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const policy = parsePolicy(text, file);
  return every === undefined ? policy : checkPolicy({ ...policy, every }, `${file} with --every ${every}`);
}

/** A monitor checked and ready to create: what `planMonitor` returns and `createMonitor` takes. */
export interface MonitorPlan {
  name: string;
  model: string;
  alias: string;
  policy: MonitorPolicy;
  retrain?: RetrainPlan;
  spec: ReturnType<typeof scheduleSpec>;
  paused: boolean;
}

/**
 * Checks everything a monitor needs before anything is made: the caller's role, the policy (errors
 * name the field), the model and alias, the timing, and the retraining pipeline, compiled now.
 */
export async function planMonitor(store: Store, actor: Principal, request: CreateMonitorRequest): Promise<MonitorPlan> {
  const { model, alias } = parseMonitorTarget(request.target);
  const name = checkScheduleName(request.name ?? (alias === 'production' ? model : `${model}-${alias}`));
  await store.access.authorize(actor, 'monitor.manage', `monitor:${name}`);
  const policy = await readPolicy(request.policyFile, request.every);
  await store.registry.getModelVersion(actor, model, alias);
  const spec = scheduleSpec(request.cron?.length ? { cron: request.cron } : { every: [policy.every] });
  let retrain: RetrainPlan | undefined;
  if (policy.actions.retrain) {
    const { pipeline, params } = policy.actions.retrain;
    const compiled = await schedulePlan(pipeline, params);
    retrain = { pipeline, plan: compiled.plan, params: compiled.params };
  }
  return { name, model, alias, policy, ...(retrain ? { retrain } : {}), spec, paused: Boolean(request.paused) };
}

/**
 * Creates a planned monitor: records it, then creates its Temporal Schedule, which starts one
 * monitorWindow workflow per window and skips a window while the last one still runs.
 */
export async function createMonitor(
  store: Store,
  client: Client,
  taskQueue: string,
  actor: Principal,
  { name, model, alias, policy, retrain, spec, paused }: MonitorPlan,
): Promise<Monitor> {
  const scheduleId = monitorScheduleId(name);
  const monitor = await store.monitoring.createMonitor(actor, {
    name,
    model,
    alias,
    policy,
    scheduleId,
    ...(retrain ? { retrain } : {}),
  });
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action: {
        type: 'startWorkflow',
        workflowType: monitorWindow,
        taskQueue,
        // Temporal appends each window's due time: monitor-<name>-<RFC 3339 time>.
        workflowId: scheduleId,
        args: [{ monitor: name }],
        memo: { monitor: name, model, alias },
        staticSummary: `Kiln monitor ${name} of ${model}@${alias}`,
      },
      policies: { overlap: 'SKIP' },
      memo: { monitor: name, by: actor.name },
      state: { paused, note: `created by ${actor.name}` },
    });
  } catch (error) {
    await store.monitoring.deleteMonitor(actor, name);
    if (error instanceof ScheduleAlreadyRunning)
      throw new ScheduleInputError(
        `a Temporal Schedule '${scheduleId}' exists already (a monitor of another store on this namespace?); delete it (kiln schedule delete ${scheduleId}) or pick another --name`,
        { cause: error },
      );
    throw error;
  }
  return monitor;
}

/** Deletes a monitor, its reports and its schedule (operator role; audited). */
export async function deleteMonitor(store: Store, client: Client, actor: Principal, name: string): Promise<Monitor> {
  const monitor = await store.monitoring.deleteMonitor(actor, name);
  try {
    await client.schedule.getHandle(monitor.scheduleId).delete();
  } catch (error) {
    // Deleted by hand in the Temporal UI already: the monitor is gone either way.
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  return monitor;
}

/**
 * Measures one window of a monitor now and acts on it (operator role: it may alert, retrain or
 * roll back; audited). The window is the policy's `every` before now unless given.
 */
export async function runMonitorWindow(
  store: Store,
  client: Client,
  taskQueue: string,
  actor: Principal,
  name: string,
  window?: { start: Date; end: Date },
): Promise<MonitorWindowResult> {
  await store.access.authorize(actor, 'monitor.manage', `monitor:${name}`);
  await store.monitoring.getMonitor(actor, name);
  const workflowId = `${monitorScheduleId(name)}-run-${randomUUID()}`;
  // The caller's role is checked above; the request goes on record in the caller's name.
  await store.db.transaction((tx) =>
    appendAuditIn(tx, {
      actor: actor.name,
      action: 'monitor.run',
      subject: `monitor:${name}`,
      after: { workflowId, ...(window ? { start: window.start.toISOString(), end: window.end.toISOString() } : {}) },
    }),
  );
  return client.workflow.execute(monitorWindow, {
    taskQueue,
    workflowId,
    args: [
      {
        monitor: name,
        ...(window ? { window: { start: window.start.toISOString(), end: window.end.toISOString() } } : {}),
      },
    ],
  });
}

/** A monitor's reports over the last `last` (e.g. 24h), oldest first (viewer role). */
export async function monitorReports(
  store: Store,
  actor: Principal,
  name: string,
  last = '24h',
  now = new Date(),
): Promise<MonitorReportRow[]> {
  const ms = durationMs(last);
  if (ms === undefined) throw new ScheduleInputError(`--last '${last}' is not a duration such as 1h, 24h or 7d`);
  return store.monitoring.listReports(actor, name, { since: new Date(now.getTime() - ms) });
}

const fixed = (n: number | null | undefined, digits = 3) => (n === null || n === undefined ? '-' : n.toFixed(digits));

export function renderMonitors(list: Monitor[]): string {
  if (list.length === 0)
    return 'No monitors. Create one with kiln monitor create <model[@alias]> --policy monitor.yaml';
  return list
    .map(
      (m) =>
        `${m.name}  ${m.model}@${m.alias}  every ${m.policy.every}  actions ${Object.keys(m.policy.actions).join(',') || 'none'}  by ${m.createdBy}`,
    )
    .join('\n');
}

export function renderReports(name: string, rows: MonitorReportRow[]): string {
  if (rows.length === 0) return `No reports of ${name} in that time.`;
  const lines = rows.map((r) => {
    const drifting = Object.values(r.features)
      .filter((f) => f.drifted)
      .map((f) => (f.status === 'measured' ? `${f.feature}(${f.test} ${f.score.toPrecision(3)})` : f.feature));
    const acted = r.actions.map((a) => `${a.kind}:${a.outcome}`).join(',');
    const state = r.report.errorRateExceeded
      ? 'ERRORS'
      : r.status !== 'measured'
        ? r.status
        : r.drifted
          ? 'DRIFT'
          : 'ok';
    return [
      r.windowEnd.toISOString(),
      `v${r.version ?? '-'}`,
      state.padEnd(16),
      `rows ${r.rows}`,
      `share ${fixed(r.share, 2)}`,
      `p50 ${fixed(r.latencyP50Ms, 1)}ms p99 ${fixed(r.latencyP99Ms, 1)}ms`,
      `acc ${fixed(r.accuracy)} auc ${fixed(r.rocAuc)}`,
      `errors ${fixed(r.report.errorRate)}`,
      drifting.length ? `drifted: ${drifting.join(' ')}` : '',
      acted ? `actions: ${acted}` : '',
      r.status !== 'measured' && r.report.reason ? `(${r.report.reason})` : '',
    ]
      .filter(Boolean)
      .join('  ');
  });
  return [`${name}: ${rows.length} window(s)`, ...lines].join('\n');
}

/** One window just measured, feature by feature, and what was done about it. */
export function renderResult({ report, actions }: MonitorWindowResult): string {
  const head = `${report.monitor}: ${report.model}@${report.version} (${report.alias}), ${report.window.start} to ${report.window.end}, ${report.rows} rows`;
  const errors = `  error rate ${fixed(report.errorRate)} (${report.errors ?? 0} failed requests)${report.errorRateExceeded ? ` ABOVE maxErrorRate, episode ${report.episode}` : ''}`;
  const acted = actions.length ? actions.map((a) => `  ${a.kind}: ${a.outcome}, ${a.detail}`) : ['  no action taken'];
  if (report.status !== 'measured')
    return [head, `  ${report.status}: ${report.reason ?? ''}`, errors, ...acted].join('\n');
  const features = Object.values(report.features).map((f) =>
    f.status === 'measured'
      ? `  ${f.drifted ? 'DRIFT' : 'ok   '} ${f.feature.padEnd(24)} ${f.test.padEnd(13)} statistic ${f.statistic.toPrecision(4)}${f.pValue === undefined ? '' : `  p ${f.pValue.toPrecision(3)}`}  threshold ${f.threshold}`
      : `  -     ${f.feature.padEnd(24)} too few values (${f.currentRows} < ${f.minRows})`,
  );
  return [
    head,
    `  dataset ${report.drifted ? 'DRIFTED' : 'not drifted'}: share ${fixed(report.share, 2)} (threshold ${report.driftShare})${report.episode ? `, episode ${report.episode}` : ''}`,
    ...features,
    ...(report.masked.length ? [`  not judged (logged as hashes): ${report.masked.join(', ')}`] : []),
    ...(report.absent.length ? [`  not judged (not in the logged rows): ${report.absent.join(', ')}`] : []),
    report.prediction?.status === 'measured'
      ? `  prediction drift: ${report.prediction.test} ${report.prediction.statistic.toPrecision(4)}${report.prediction.drifted ? ' DRIFT' : ''}`
      : '  prediction drift: -',
    `  latency p50 ${fixed(report.latency.p50Ms, 1)} ms, p99 ${fixed(report.latency.p99Ms, 1)} ms; labelled ${report.labelled}: accuracy ${fixed(report.accuracy)}, ROC AUC ${fixed(report.rocAuc)}`,
    errors,
    ...acted,
  ].join('\n');
}
