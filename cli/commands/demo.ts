import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { startServing, storeSource, type Serving } from '../../serving';
import type { Store } from '../../store';
import { loadConfig, runUrl, type KilnConfig } from '../../runtime/config';
import { startLogging, whereLogsGo } from '../../runtime/logging';
import { caller } from '../store';
import { startDevStack } from '../dev-stack';
import { loadPlan } from '../load-pipeline';
import { startRun } from '../start-run';
import { watch } from './run';
import { startConsole } from './console';
import type { ConsoleServer } from '../../console/server';

export const help = `kiln demo [--exit] [--approve] [--example FILE] [--verbose]
  Kiln's main job on embedded defaults: starts the Temporal dev server and a worker, runs the
  credit-risk example with live progress, asks for approval at its gate, prints the held-out
  metrics and the Web UI link, then serves the promoted model (kiln serve on :8080, or a free port)
  with a curl line that works, and keeps serving until Ctrl-C.
  --exit          exit when the run ends (for scripts), after one request to the model server
  --approve       approve the gate as the local admin instead of asking
  --verbose       print the worker's log records here too (they always go to KILN_HOME/logs/kiln.log)`;

export async function demo(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      exit: { type: 'boolean' },
      approve: { type: 'boolean' },
      example: { type: 'string' },
      verbose: { type: 'boolean' },
    },
  });
  const config = loadConfig();
  print(whereLogsGo(startLogging({ home: config.home, verbose: Boolean(values.verbose) })));
  const stack = await startDevStack(config, print);
  let code = 1;
  let serving: Serving | undefined;
  let web: ConsoleServer | undefined;
  try {
    web = await startConsole(stack.store, stack.client, config, print, { fallback: true });
    const { plan } = await loadPlan(values.example ?? 'examples/credit-risk.ts');
    const handle = await startRun(stack.client, config.taskQueue, plan, {});
    print(
      `\nRunning ${plan.name} (${handle.workflowId})\n  Web UI: ${runUrl(config, handle.workflowId, handle.firstExecutionRunId)}\n`,
    );
    code = await watch(handle, { config, print }, { autoApprove: Boolean(values.approve) });
    print(`\nSee the run in the Temporal Web UI: ${runUrl(config, handle.workflowId, handle.firstExecutionRunId)}`);
    if (code === 0) serving = await serveModel(stack.store, config, print);
  } catch (error) {
    await serving?.server.close();
    await web?.close();
    await stack.stop();
    throw error;
  }
  if (values.exit) {
    if (serving) await tryIt(serving, print);
    await serving?.server.close();
    await web.close();
    await stack.stop();
    return code;
  }
  print('\nThe server, the console and the worker stay up so you can explore; Ctrl-C stops them.');
  await stack.closed();
  await serving?.server.close();
  await web.close();
  return code;
}

/** The model the run promoted, served from the dev stack's store: on :8080 when free, else on any free port. */
async function serveModel(store: Store, config: KilnConfig, print: (line: string) => void): Promise<Serving> {
  const actor = await caller(store, config, print);
  const source = storeSource(store, new ArtifactStore(config.artifactsDir), actor);
  const targets = [{ name: 'credit-risk', alias: 'production' }];
  const serving = await startServing(source, targets, { port: 8080, host: '127.0.0.1' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startServing(source, targets, { port: 0, host: '127.0.0.1' });
  });
  print(
    `\nServing credit-risk@production at ${serving.url}. Try:\n${serving.examples.map((e) => `  ${e}`).join('\n')}`,
  );
  return serving;
}

/** What the printed curl line answers, asked the same way. */
async function tryIt(serving: Serving, print: (line: string) => void): Promise<void> {
  const row = /-d '(.*)'$/.exec(serving.examples[0] ?? '')?.[1] ?? '{}';
  const response = await fetch(`${serving.url}/v1/models/credit-risk/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: row,
  });
  print(`It answered ${response.status}: ${await response.text()}`);
}
