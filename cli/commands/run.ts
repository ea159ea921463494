import { parseArgs } from 'node:util';
import { connectClient, loadConfig, runUrl } from '../../runtime/config';
import { follow } from '../follow';
import { loadPlan } from '../load-pipeline';
import { checkParams, parseParamArgs } from '../params';
import { approvalPrompter } from '../approval-prompt';
import type { Approver } from '../decide';
import { renderStatus } from '../render';
import { startRun } from '../start-run';
import { caller, withStore } from '../store';

export const help = `kiln run <pipeline.ts | plan.json> [options]
  Compiles the pipeline, starts a run, follows it live and prints its result and Web UI link.
  Needs the operator role.
  -p, --param name=value   a pipeline parameter (JSON values are parsed; repeatable)
      --detach             start the run and return at once
      --id ID              the run's workflow id (default: <pipeline>-<time>-<random>)
      --no-cache           run every step even when a recorded result matches
      --parallelism N      at most N steps at once
      --approve            approve every gate as the caller (for scripts; needs the approver role)
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
      token: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file) throw new Error(`which pipeline? usage:\n${help}`);
  const config = loadConfig();
  const { plan, pipeline } = await loadPlan(file);
  const given = parseParamArgs(values.param);
  const params = pipeline ? checkParams(pipeline, given) : given;
  // Starting runs is the operator's; refused (and audited) before anything reaches Temporal.
  await withStore(config, async (store) =>
    store.access.authorize(await caller(store, config, print, values.token), 'run.start', `pipeline:${plan.name}`),
  );
  const client = await connectClient(config);
  try {
    const handle = await startRun(client, config.taskQueue, plan, params, {
      ...(values.id ? { workflowId: values.id } : {}),
      ...(values['no-cache'] ? { cache: false } : {}),
      ...(values.parallelism ? { parallelism: Number(values.parallelism) } : {}),
    });
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
    if (status.status === 'succeeded') {
      const { output } = await handle.result();
      const metrics = (output as { metrics?: Record<string, number> } | null)?.metrics;
      if (metrics)
        print(
          `\nHeld-out metrics:\n${Object.entries(metrics)
            .map(([k, v]) => `  ${k.padEnd(12)} ${+v.toFixed(4)}`)
            .join('\n')}`,
        );
      print(`\nResult: ${JSON.stringify(output, null, 2)}`);
      return 0;
    }
    return 1;
  } finally {
    prompter.close();
  }
}
