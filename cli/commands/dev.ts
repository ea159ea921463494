import { loadConfig } from '../../runtime/config';
import { startDevStack } from '../dev-stack';

export const help = `kiln dev
  Starts the Temporal dev server (state in .kiln/temporal.db, Web UI on :8233) and a worker,
  until Ctrl-C. Then \`kiln run <pipeline.ts>\` from another shell.`;

export async function dev(_args: string[], print = console.log): Promise<number> {
  const config = loadConfig();
  const stack = await startDevStack(config, print);
  print(`Worker polling '${config.taskQueue}'. Run a pipeline with: kiln run examples/credit-risk.ts   (Ctrl-C stops)`);
  await stack.closed();
  return 0;
}
