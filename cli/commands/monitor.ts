import { parseArgs } from 'node:util';
import { connectClient, loadConfig } from '../../runtime/config';
import {
  createMonitor,
  deleteMonitor,
  monitorReports,
  planMonitor,
  renderMonitors,
  renderReports,
  renderResult,
  runMonitorWindow,
} from '../monitors';
import { parseTime } from '../schedules';
import { caller, withStore } from '../store';

const token = `      --token TOKEN        act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

const helps = {
  create: `kiln monitor create <model[@alias]> --policy FILE [--every DURATION | --cron EXPR] [--name NAME] [--paused]
  Watches a served model alias (production by default) on a Temporal Schedule: each window, drift of
  the logged features against the training dataset found through lineage, prediction drift, latency,
  and accuracy on labelled rows; on drift, the policy's actions, once per drift episode. Needs the
  operator role; audited.
      --policy FILE        monitor.yaml or .json: every, minRows, driftShare, features, actions
                           (alert.webhook, retrain.pipeline/params, rollback), cooldown
      --every DURATION     how often, and the window length (overrides the policy's every; e.g. 10m)
      --cron EXPR          five-field cron (UTC) instead of --every; repeatable
      --name NAME          the monitor's name (default: the model's, with -alias for another alias)
      --paused             create its schedule paused (kiln schedule unpause monitor-<name> starts it)
${token}`,
  list: `kiln monitor list [--json]
  The monitors, with their model, alias, timing and actions.
${token}`,
  report: `kiln monitor report <name> [--last 24h] [--json]
  The monitor's windows over the last DURATION (default 24h): rows, drift share and drifting
  features with their tests and scores, latency p50/p99, accuracy and ROC AUC, actions taken.
${token}`,
  run: `kiln monitor run <name> [--from TIME --to TIME]
  Measures one window now (the policy's every before now, or --from/--to in ISO 8601) and acts on
  it by the policy; prints the report. Needs the operator role; audited.
${token}`,
  delete: `kiln monitor delete <name>
  Deletes the monitor, its schedule and its reports. Needs the operator role; audited.
${token}`,
} as const;
type Sub = keyof typeof helps;

export const help = `kiln monitor create|list|report|run|delete ...
  Scheduled drift, latency and accuracy monitoring of a served model that alerts, retrains or rolls back.
${Object.values(helps)
  .map((h) => `  ${h.split('\n')[0]}`)
  .join('\n')}`;

/** The help of the subcommand named in `args`, else the command's. */
export const helpFor = (args: string[]) => helps[args.find((a) => Object.hasOwn(helps, a)) as Sub] ?? help;

const json = (value: unknown) => JSON.stringify(value, null, 2);

export async function monitor(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      every: { type: 'string' },
      cron: { type: 'string', multiple: true },
      name: { type: 'string' },
      paused: { type: 'boolean' },
      last: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      json: { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  const [sub, target] = positionals;
  if (!sub || !Object.hasOwn(helps, sub))
    throw new Error(`${sub ? `unknown monitor command '${sub}'` : 'which?'}\n${help}`);
  if (sub !== 'list' && !target)
    throw new Error(`which ${sub === 'create' ? 'model' : 'monitor'}?\n${helps[sub as Sub]}`);
  if (sub === 'create' && !values.policy) throw new Error(`which policy? add --policy monitor.yaml\n${helps.create}`);
  const config = loadConfig();
  return withStore(config, async (store) => {
    const actor = await caller(store, config, print, values.token);
    if (sub === 'list') {
      const all = await store.monitoring.listMonitors(actor);
      print(values.json ? json(all) : renderMonitors(all));
      return 0;
    }
    if (sub === 'report') {
      const rows = await monitorReports(store, actor, target!, values.last);
      print(values.json ? json(rows) : renderReports(target!, rows));
      return 0;
    }
    // Checked before Temporal is reached: a bad policy is refused with its field, whatever runs.
    const plan =
      sub === 'create'
        ? await planMonitor(store, actor, {
            target: target!,
            policyFile: values.policy!,
            ...(values.name ? { name: values.name } : {}),
            ...(values.every ? { every: values.every } : {}),
            ...(values.cron ? { cron: values.cron } : {}),
            ...(values.paused ? { paused: true } : {}),
          })
        : undefined;
    const client = await connectClient(config);
    try {
      if (plan) {
        const created = await createMonitor(store, client, config.taskQueue, actor, plan);
        print(
          `Created monitor ${created.name} of ${created.model}@${created.alias}: ${values.cron?.length ? `cron ${values.cron.join(', ')}` : `every ${plan.policy.every}`}${plan.paused ? ' (paused)' : ''}, schedule ${created.scheduleId}`,
        );
      } else if (sub === 'run') {
        const window =
          values.from || values.to
            ? { start: parseTime('--from', values.from), end: parseTime('--to', values.to) }
            : undefined;
        const result = await runMonitorWindow(store, client, config.taskQueue, actor, target!, window);
        print(values.json ? json(result) : renderResult(result));
      } else {
        const gone = await deleteMonitor(store, client, actor, target!);
        print(`Deleted monitor ${gone.name} and its schedule ${gone.scheduleId}`);
      }
      return 0;
    } finally {
      await client.connection.close();
    }
  });
}
