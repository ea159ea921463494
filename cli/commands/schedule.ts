import type { ScheduleDescription, ScheduleSummary } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { connectClient, loadConfig, runUrl, type KilnConfig } from '../../runtime/config';
import type { RunInput } from '../../workflows/protocol';
import { parseParamArgs } from '../params';
import {
  changeSchedule,
  checkOverlap,
  checkScheduleName,
  createSchedule,
  describeSchedule,
  governed,
  listSchedules,
  parseTime,
  scheduleSpec,
  schedulePlan,
  type ScheduleChange,
} from '../schedules';
import { caller, withStore } from '../store';

const token = `      --token TOKEN        act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const helps = {
  create: `kiln schedule create <name> --pipeline <pipeline.ts | plan.json> (--cron EXPR | --every DURATION) [options]
  Creates a Temporal Schedule that starts a run of the pipeline at each time; the plan is compiled and
  checked now, and every run carries the schedule's name. Needs the operator role; audited.
      --pipeline FILE      the pipeline module or plan JSON to run
      --cron EXPR          five-field cron (minute hour day month weekday, UTC) or @daily etc.; repeatable
      --every DURATION     an interval such as 10m, 1h or 1d; repeatable
  -p, --param name=value   a pipeline parameter (JSON values are parsed; repeatable)
      --overlap POLICY     when a run is still going: skip (default), buffer-one, cancel-other, allow-all
      --jitter DURATION    start each run up to this much later, at random (e.g. 5m)
      --paused             create it paused
${token}`,
  list: `kiln schedule list [--json]
  The schedules that start Kiln runs, with their pipeline, timing, state and next run.
${token}`,
  describe: `kiln schedule describe <name> [--json]
  One schedule: pipeline, plan, parameters, timing, overlap policy, state, next and recent runs.
${token}`,
  pause: `kiln schedule pause <name> [--note TEXT]
  Stops the schedule from starting runs until unpaused. Needs the operator role; audited.
${token}`,
  unpause: `kiln schedule unpause <name> [--note TEXT]
  Lets a paused schedule start runs again. Needs the operator role; audited.
${token}`,
  trigger: `kiln schedule trigger <name> [--overlap POLICY]
  Starts one run now (also when paused). Needs the operator role; audited.
${token}`,
  backfill: `kiln schedule backfill <name> --from TIME --to TIME [--overlap POLICY]
  Starts the runs the schedule would have started in the window (ISO 8601 times, e.g.
  2026-11-01T00:00:00Z); with --overlap allow-all they run side by side. Needs the operator role; audited.
${token}`,
  delete: `kiln schedule delete <name>
  Deletes the schedule; runs it started are kept. Needs the operator role; audited.
${token}`,
} as const;
type Sub = keyof typeof helps;

export const help = `kiln schedule create|list|describe|pause|unpause|trigger|backfill|delete ...
  Temporal Schedules that start pipeline runs (shown in the Temporal Web UI); kiln schedule <sub> --help.
${Object.values(helps)
  .map((h) => `  ${h.split('\n')[0]}`)
  .join('\n')}`;

/** The help of the subcommand named in `args`, else the command's. */
export const helpFor = (args: string[]) => helps[args.find((a) => Object.hasOwn(helps, a)) as Sub] ?? help;

const when = (spec?: { cronExpressions?: string[]; intervals?: Array<{ every: number }>; calendars?: unknown[] }) =>
  [
    ...(spec?.cronExpressions ?? []).map((c) => `cron '${c}'`),
    ...(spec?.intervals ?? []).map((i) => `every ${seconds(i.every)}`),
    ...(spec?.calendars?.length ? [`${spec.calendars.length} calendar(s)`] : []),
  ].join(', ') || 'no times';

const seconds = (ms: number) =>
  ms % 86_400_000 === 0
    ? `${ms / 86_400_000}d`
    : ms % 3_600_000 === 0
      ? `${ms / 3_600_000}h`
      : ms % 60_000 === 0
        ? `${ms / 60_000}m`
        : `${ms / 1000}s`;

const scheduleUrl = (config: KilnConfig, name: string) =>
  `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/schedules/${encodeURIComponent(name)}`;

/** What the audit trail keeps of a change: plain JSON (times as ISO strings), without its kind. */
const auditDetails = (change: ScheduleChange): Record<string, unknown> =>
  change.kind === 'backfill'
    ? { from: change.from.toISOString(), to: change.to.toISOString(), overlap: change.overlap ?? null }
    : Object.fromEntries(Object.entries(change).filter(([k]) => k !== 'kind'));

function renderList(all: ScheduleSummary[]): string {
  if (all.length === 0) return 'No schedules. Create one with kiln schedule create <name> --pipeline <file> --every 1h';
  return all
    .map((s) => {
      const next = s.info.nextActionTimes[0];
      const last = s.info.recentActions.at(-1);
      return `${s.scheduleId}  ${String(s.memo?.pipeline ?? '?')}  ${when(s.spec)}  ${s.state.paused ? 'paused' : 'active'}${next && !s.state.paused ? `  next ${next.toISOString()}` : ''}${last ? `  last ${last.action.workflow.workflowId}` : ''}`;
    })
    .join('\n');
}

function renderDescription(config: KilnConfig, d: ScheduleDescription): string {
  const input = d.action.args?.[0] as RunInput | undefined;
  const lines = [
    `${d.scheduleId}  ${d.state.paused ? 'paused' : 'active'}${d.state.note ? ` (${d.state.note})` : ''}`,
    `  pipeline   ${input?.plan.name ?? '?'} (plan ${input?.plan.hash.slice(0, 12) ?? '?'})`,
    `  params     ${JSON.stringify(input?.params ?? {})}`,
    `  when       ${when(d.spec)}${d.spec.jitter ? `, jitter ${seconds(d.spec.jitter)}` : ''}`,
    `  overlap    ${d.policies.overlap ?? 'SKIP'}`,
    `  queue      ${d.action.taskQueue}`,
    `  created    ${d.info.createdAt.toISOString()}${d.memo?.by ? ` by ${String(d.memo.by)}` : ''}`,
    `  runs       ${d.info.numActionsTaken} started, ${d.info.numActionsSkippedOverlap} skipped for overlap, ${d.info.runningActions.length} running`,
    ...d.info.nextActionTimes.slice(0, 3).map((t, i) => `  ${i ? '          ' : 'next      '} ${t.toISOString()}`),
    ...d.info.recentActions
      .slice(-5)
      .map(
        (a, i) =>
          `  ${i ? '          ' : 'recent    '} ${a.action.workflow.workflowId}  ${runUrl(config, a.action.workflow.workflowId, a.action.workflow.firstExecutionRunId)}`,
      ),
    `  web UI     ${scheduleUrl(config, d.scheduleId)}`,
  ];
  return lines.join('\n');
}

export async function schedule(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pipeline: { type: 'string' },
      cron: { type: 'string', multiple: true },
      every: { type: 'string', multiple: true },
      param: { type: 'string', short: 'p', multiple: true },
      overlap: { type: 'string' },
      jitter: { type: 'string' },
      paused: { type: 'boolean' },
      note: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const [sub, target] = positionals;
  if (!sub || !Object.hasOwn(helps, sub))
    throw new Error(`${sub ? `unknown schedule command '${sub}'` : 'which?'}\n${help}`);
  const config = loadConfig();
  const name = sub === 'list' ? '*' : checkScheduleName(target);
  const overlap = checkOverlap(values.overlap);

  if (sub === 'create') {
    if (!values.pipeline) throw new Error(`which pipeline? add --pipeline <file>\n${helps.create}`);
    const timing = {
      ...(values.cron ? { cron: values.cron } : {}),
      ...(values.every ? { every: values.every } : {}),
      ...(values.jitter !== undefined ? { jitter: values.jitter } : {}),
    };
    const spec = scheduleSpec(timing);
    const { plan, params } = await schedulePlan(values.pipeline, parseParamArgs(values.param));
    return withStore(config, async (store) => {
      const actor = await caller(store, config, print, values.token);
      const after = { pipeline: plan.name, planHash: plan.hash, params, ...timing, overlap: overlap ?? 'SKIP' };
      await governed(store, actor, { action: 'create', schedule: name, after }, async () => {
        const client = await connectClient(config);
        try {
          await createSchedule(client, config.taskQueue, {
            name,
            plan,
            params,
            timing,
            ...(overlap ? { overlap } : {}),
            ...(values.paused ? { paused: true } : {}),
            by: actor.name,
          });
        } finally {
          await client.connection.close();
        }
      });
      print(
        `Created schedule ${name}: ${plan.name} ${when(spec)}${values.paused ? ' (paused)' : ''}\n  ${scheduleUrl(config, name)}`,
      );
      return 0;
    });
  }

  const change = (): ScheduleChange | undefined => {
    switch (sub) {
      case 'pause':
      case 'unpause':
        return { kind: sub, ...(values.note ? { note: values.note } : {}) };
      case 'trigger':
        return { kind: 'trigger', ...(overlap ? { overlap } : {}) };
      case 'backfill':
        return {
          kind: 'backfill',
          from: parseTime('--from', values.from),
          to: parseTime('--to', values.to),
          ...(overlap ? { overlap } : {}),
        };
      case 'delete':
        return { kind: 'delete' };
      default:
        return undefined;
    }
  };
  const requested = change();
  return withStore(config, async (store) => {
    const actor = await caller(store, config, print, values.token);
    const client = await connectClient(config);
    try {
      if (!requested) {
        const json = (found: unknown) => JSON.stringify(found, (k, v: unknown) => (k === 'raw' ? undefined : v), 2);
        const read = { action: 'read', schedule: name } as const;
        if (sub === 'list') {
          const all = await governed(store, actor, read, () => listSchedules(client));
          print(values.json ? json(all) : renderList(all));
        } else {
          const found = await governed(store, actor, read, () => describeSchedule(client, name));
          print(values.json ? json(found) : renderDescription(config, found));
        }
        return 0;
      }
      await governed(store, actor, { action: requested.kind, schedule: name, after: auditDetails(requested) }, () =>
        changeSchedule(client, name, requested),
      );
      const done = {
        pause: 'Paused',
        unpause: 'Unpaused',
        trigger: 'Triggered',
        backfill: 'Backfilled',
        delete: 'Deleted',
      };
      print(`${done[requested.kind]} schedule ${name}`);
      return 0;
    } finally {
      await client.connection.close();
    }
  });
}
