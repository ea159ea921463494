import { parseArgs } from 'node:util';
import { connectClient, loadConfig, runUrl } from '../../runtime/config';
import { follow } from '../follow';
import { loadPlan, pipelineFile } from '../load-pipeline';
import { projectSettings } from '../../runtime/project-config';
import { checkParams, parseParamArgs } from '../params';
import { approvalPrompter } from '../approval-prompt';
import type { Approver } from '../decide';
import { renderMetrics, renderStatus } from '../render';
import { startRunAs } from '../start-run';
import { caller, withStore } from '../store';
import { closedReason } from '../follow';

export const help = `kiln run <pipeline.ts | plan.json | name> [options]
  Compiles the pipeline, starts a run, follows it live and prints its result and Web UI link.
  Refuses a pipeline with a step no running worker of its task queue provides. A name is that of
  a pipeline listed in kiln.config.ts, whose steps and task queue are the defaults. Needs the operator role.
  -p, --param name=value   a pipeline parameter (JSON values are parsed; repeatable)
      --detach             start the run and return at once
      --id ID              the run's workflow id (default: <pipeline>-<time>-<random>)
      --no-cache           run every step even when a recorded result matches
      --parallelism N      at most N steps at once (a whole number, at least 1)
      --steps module.ts    a module of extra steps the worker runs (as kiln worker --steps); repeatable
      --approve            approve every gate as the caller (for scripts; needs the approver role; not with --detach)
      --token TOKEN        act as this token's principal (default KILN_TOKEN, then KILN_HOME/token)`;

export async function run(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      param: { type: 'string', short: 'p', multiple: true },
      detach: { type: 'boolean' },
      id: { type: 'string' },
      'no-cache': { type: 'boolean' },
      parallelism: { type: 'string' },
      approve: { type: 'boolean' },
      steps: { type: 'string', multiple: true },
      token: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file) throw new Error(`which pipeline? usage:\n${help}`);
  if (values.approve && values.detach)
    throw new Error(
      '--approve answers gates while kiln run follows the run, so it cannot go with --detach; drop one (a detached run is approved with kiln approve)',
    );
  const parallelism = values.parallelism === undefined ? undefined : parseParallelism(values.parallelism);
  const config = loadConfig();
  const { taskQueue, stepModules, project } = await projectSettings(config, { steps: values.steps });
  const { plan, pipeline } = await loadPlan(await pipelineFile(file, project));
  const given = parseParamArgs(values.param);
  const params = pipeline ? checkParams(pipeline, given) : given;
  const client = await connectClient(config);
  try {
    // Starting runs is the operator's; refused (and audited) before anything reaches Temporal.
    const handle = await withStore(config, async (store) =>
      startRunAs(store, await caller(store, config, print, values.token), client, taskQueue, plan, params, {
        ...(values.id ? { workflowId: values.id } : {}),
        ...(values['no-cache'] ? { cache: false } : {}),
        ...(parallelism !== undefined ? { parallelism } : {}),
        stepModules,
        kilnHome: config.home,
      }),
    );
    print(
      `Started ${plan.name} as ${handle.workflowId}\n  ${runUrl(config, handle.workflowId, handle.firstExecutionRunId)}`,
    );
    if (values.detach) return 0;
    return await watch(
      handle,
      { config, print, ...(values.token ? { token: values.token } : {}) },
      { autoApprove: Boolean(values.approve) },
    );
  } finally {
    await client.connection.close();
  }
}

/** --parallelism as a whole number of at least 1; anything else is refused before the run starts. */
export function parseParallelism(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`--parallelism must be a whole number of at least 1 (steps at once), not '${text}'`);
  return n;
}

/** Follows a run to its end, answering gates; returns the process exit code. */
export async function watch(
  handle: Parameters<typeof follow>[0],
  approver: Approver,
  options: { autoApprove?: boolean } = {},
): Promise<number> {
  const { print } = approver;
  const prompter = approvalPrompter(handle, print, { approver, interactive: Boolean(process.stdin.isTTY), ...options });
  try {
    const status = await follow(handle, { print, onWaiting: prompter.onWaiting });
    print('');
    print(renderStatus(status));
    // A run that failed before its status could say why (an unknown step, a bad plan) or that
    // Temporal ended (terminated, timed out): the reason is in its close event.
    if (status.status !== 'succeeded' && !status.error) {
      const reason = await closedReason(handle);
      if (reason) print(`  error: ${reason}`);
    }
    if (status.status === 'succeeded') {
      const { output } = await handle.result();
      const metrics = (output as { metrics?: Record<string, number> } | null)?.metrics;
      if (metrics) print(`\nHeld-out metrics:\n${renderMetrics(metrics)}`);
      print(`\nResult: ${JSON.stringify(output, null, 2)}`);
      return 0;
    }
    return 1;
  } finally {
    prompter.close();
  }
}
