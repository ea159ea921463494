import { parseArgs } from 'node:util';
import { loadConfig } from '../../runtime/config';
import { startLogging, whereLogsGo } from '../../runtime/logging';
import { startDevStack } from '../dev-stack';
import { startConsole } from './console';
import { projectSettings } from '../../runtime/project-config';

export const help = `kiln dev [--steps module.ts]… [--verbose]
  Starts the Temporal dev server (state in .kiln/temporal.db, Web UI on :8233) and a worker,
  until Ctrl-C. Then \`kiln run <pipeline.ts>\` from another shell.
  --steps module.ts   also run the steps this module exports (repeatable; kiln.config.ts may list
                      them too); an edited module is reloaded, runs in flight keep their code
  --verbose       print the worker's log records here too (they always go to KILN_HOME/logs/kiln.log)`;

export async function dev(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { verbose: { type: 'boolean' }, steps: { type: 'string', multiple: true } },
  });
  const base = loadConfig();
  const settings = await projectSettings(base, { steps: values.steps });
  const config = { ...base, taskQueue: settings.taskQueue };
  print(whereLogsGo(startLogging({ home: config.home, verbose: Boolean(values.verbose) })));
  const stack = await startDevStack(config, print, { stepModules: settings.stepModules });
  const web = await startConsole(stack.store, stack.client, config, print, {
    fallback: true,
    stepModules: [...settings.stepModules],
  }).catch(async (error: unknown) => {
    await stack.stop();
    throw error;
  });
  print(`Worker polling '${config.taskQueue}'. Run a pipeline with: kiln run examples/credit-risk.ts   (Ctrl-C stops)`);
  await stack.closed();
  await web.close();
  return 0;
}
