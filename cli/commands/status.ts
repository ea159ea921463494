import { parseArgs } from 'node:util';
import { statusQuery, type runPipeline } from '../../workflows';
import { connectClient, loadConfig, runUrl } from '../../runtime/config';
import { pendingProgress } from '../follow';
import { renderStatus } from '../render';

export const help = `kiln status <run-id> [--json]
  Every step's state, attempts, timings and outputs, and the run's Web UI link.`;

export async function status(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const id = positionals[0];
  if (!id) throw new Error(`which run? usage:\n${help}`);
  const config = loadConfig();
  const client = await connectClient(config);
  try {
    const handle = client.workflow.getHandle<typeof runPipeline>(id);
    const state = await handle.query(statusQuery);
    if (values.json) {
      print(JSON.stringify(state, null, 2));
    } else {
      const progress = state.status === 'running' ? await pendingProgress(handle) : {};
      print(renderStatus(state, progress));
      print(`  ${runUrl(config, id)}`);
    }
    return state.status === 'failed' ? 1 : 0;
  } finally {
    await client.connection.close();
  }
}
