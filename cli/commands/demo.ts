import { parseArgs } from 'node:util';
import { loadConfig, runUrl } from '../../runtime/config';
import { startDevStack } from '../dev-stack';
import { loadPlan } from '../load-pipeline';
import { startRun } from '../start-run';
import { watch } from './run';

export const help = `kiln demo [--exit] [--approve] [--example FILE]
  Kiln's main job on embedded defaults: starts the Temporal dev server and a worker, runs the
  credit-risk example with live progress, asks for approval at its gate, prints the held-out
  metrics and the Web UI link, then keeps serving until Ctrl-C.
  --exit          exit when the run ends (for scripts)
  --approve       approve the gate as the local admin instead of asking`;

export async function demo(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { exit: { type: 'boolean' }, approve: { type: 'boolean' }, example: { type: 'string' } },
  });
  const config = loadConfig();
  const stack = await startDevStack(config, print);
  let code = 1;
  try {
    const { plan } = await loadPlan(values.example ?? 'examples/credit-risk.ts');
    const handle = await startRun(stack.client, config.taskQueue, plan, {});
    print(
      `\nRunning ${plan.name} (${handle.workflowId})\n  Web UI: ${runUrl(config, handle.workflowId, handle.firstExecutionRunId)}\n`,
    );
    code = await watch(handle, { config, print }, { autoApprove: Boolean(values.approve) });
    print(`\nSee the run in the Temporal Web UI: ${runUrl(config, handle.workflowId, handle.firstExecutionRunId)}`);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  if (values.exit) {
    await stack.stop();
    return code;
  }
  print('\nThe server and worker stay up so you can explore; Ctrl-C stops them.');
  await stack.closed();
  return code;
}
