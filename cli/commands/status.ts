import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { runPipeline } from '../../workflows';
import { connectClient, loadConfig, runUrl } from '../../runtime/config';
import { closedState } from '../../workers/reconcile';
import { busyNotice, closedReason, pendingProgress, queryStatus } from '../follow';
import { renderStatus } from '../render';

export const help = `kiln status <run-id> [--json]
  Every step's state, attempts, timings and outputs, and the run's Web UI link.`;

/** How long `kiln status` keeps asking a worker too busy to answer. */
const STATUS_PATIENCE_MS = 120_000;

export async function status(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const id = positionals[0];
  if (!id) throw new Error(`which run? usage:\n${help}`);
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const handle = client.workflow.getHandle<typeof runPipeline>(id);
    const description = await handle.describe().catch((error: unknown) => {
      if (error instanceof WorkflowNotFoundError) throw new Error(`no run '${id}' in namespace ${config.namespace}`);
      throw error;
    });
    const busy = busyNotice((line) => console.error(line.trim()));
    const state = await queryStatus(handle, { onBusy: busy.onBusy, patienceMs: STATUS_PATIENCE_MS });
    // A run terminated or timed out in Temporal never says so itself: its last state reads `running`.
    const closed = closedState(description.status.name);
    const shown = closed === 'terminated' || closed === 'timed_out' ? closed : undefined;
    if (values.json) {
      print(JSON.stringify(shown ? { ...state, status: shown } : state, null, 2));
    } else {
      const progress = state.status === 'running' && !closed ? await pendingProgress(handle) : {};
      print(renderStatus(state, progress, shown));
      if (closed && closed !== 'succeeded' && !state.error) {
        const reason = await closedReason(handle);
        if (reason) print(`  error: ${reason}`);
      }
      print(`  ${runUrl(config, id, description.runId)}`);
    }
    return state.status === 'failed' || shown ? 1 : 0;
  } finally {
    await client.connection.close();
  }
}
