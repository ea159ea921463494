import { parseArgs } from 'node:util';
import { loadConfig } from '../../runtime/config';
import { startLogging, whereLogsGo } from '../../runtime/logging';
import { startDevStack } from '../dev-stack';

export const help = `kiln dev [--verbose]
  Starts the Temporal dev server (state in .kiln/temporal.db, Web UI on :8233) and a worker,
  until Ctrl-C. Then \`kiln run <pipeline.ts>\` from another shell.
  --verbose       print the worker's log records here too (they always go to KILN_HOME/logs/kiln.log)`;

export async function dev(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({ args, options: { verbose: { type: 'boolean' } } });
  const config = loadConfig();
  print(whereLogsGo(startLogging({ home: config.home, verbose: Boolean(values.verbose) })));
  const stack = await startDevStack(config, print);
  print(`Worker polling '${config.taskQueue}'. Run a pipeline with: kiln run examples/credit-risk.ts   (Ctrl-C stops)`);
  await stack.closed();
  return 0;
}
