import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { createConsoleServer, type ConsoleServer } from '../../console/server';
import { StoreSharedError, type Store } from '../../store';
import { connectClient, loadConfig, type KilnConfig } from '../../runtime/config';
import { openKilnStore } from '../store';

export const help = `kiln console [--port 8090] [--host 127.0.0.1] [--pipeline FILE]… [--steps module.ts]…
  Serves Kiln's web console and its JSON API until Ctrl-C: runs with their DAG live, approvals,
  models with their curves, lineage, deployments, monitors, schedules and the audit trail. Sign
  in with a Kiln token (the local admin's is in KILN_HOME/token); roles are checked by the server.
  --port N           the port (default 8090; 0 picks a free one)
  --host H           the address to bind (default 127.0.0.1: this machine only)
  --pipeline FILE    a pipeline module the console may start (repeatable; default: examples/*.ts)
  --steps module.ts  steps the worker runs besides the built-ins (as kiln worker --steps)`;

const DEFAULT_CONSOLE_PORT = 8090;

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** The pipeline modules in ./examples, when there is such a folder. */
function examplePipelines(): string[] {
  try {
    return readdirSync('examples')
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.checks.ts'))
      .map((f) => join('examples', f));
  } catch {
    // No examples folder here: the console starts no pipelines until given some.
    return [];
  }
}

/**
 * Starts the console on `port`, or on a free port when that one is taken and `fallback` is set
 * (kiln dev and the demo, which must not fail over a busy port); prints its URL.
 */
export async function startConsole(
  store: Store,
  client: Client,
  config: KilnConfig,
  print: (line: string) => void,
  options: { port?: number; host?: string; pipelines?: string[]; stepModules?: string[]; fallback?: boolean } = {},
): Promise<ConsoleServer> {
  const server = await createConsoleServer({
    store,
    client,
    taskQueue: config.taskQueue,
    temporal: { uiUrl: config.uiUrl, namespace: config.namespace },
    artifactsDir: config.artifactsDir,
    kilnHome: config.home,
    pipelines: options.pipelines ?? examplePipelines(),
    ...(options.stepModules ? { stepModules: options.stepModules } : {}),
    log: print,
  });
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host))
    print(
      `Warning: the console on ${host} is reachable from other machines over plain HTTP: tokens and session cookies cross the network in clear. Put it behind a TLS proxy.`,
    );
  const url = await server.listen({ host, port: options.port ?? DEFAULT_CONSOLE_PORT }).catch((error: unknown) => {
    if (!options.fallback || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return server.listen({ host, port: 0 });
  });
  print(
    `Console at ${url} (sign in with a Kiln token${config.databaseUrl ? '' : `; the local admin's is in ${join(config.home, 'token')}`})`,
  );
  return server;
}

export async function consoleCommand(args: string[], print = console.log): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      pipeline: { type: 'string', multiple: true },
      steps: { type: 'string', multiple: true },
    },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new Error(`--port must be a port number from 0 to 65535, got '${values.port}'`);
  const config = loadConfig();
  // Long-lived like a worker: it serves a PGlite store to other commands, unless one already does.
  const store = await openKilnStore(config, { share: true }).catch((error: unknown) => {
    if (error instanceof StoreSharedError) return openKilnStore(config);
    throw error;
  });
  try {
    const client = await connectClient(config);
    try {
      const server = await startConsole(store, client, config, print, {
        ...(port !== undefined ? { port } : {}),
        ...(values.host ? { host: values.host } : {}),
        ...(values.pipeline ? { pipelines: values.pipeline } : {}),
        ...(values.steps ? { stepModules: values.steps } : {}),
      });
      print('Ctrl-C stops it.');
      await new Promise<void>((stop) => {
        process.once('SIGINT', () => stop());
        process.once('SIGTERM', () => stop());
      });
      await server.close();
    } finally {
      await client.connection.close();
    }
  } finally {
    await store.close();
  }
  return 0;
}
