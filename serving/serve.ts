import { createModelServer, type ModelServer, type ModelServerOptions, type ServedTarget } from './server';
import type { ServingSource } from './source';

/** `credit-risk@production` → { name, alias }; a name alone serves its `production` alias. */
export function parseTarget(text: string): ServedTarget {
  const match = /^([^@\s]+)(?:@([^@\s]+))?$/.exec(text);
  if (!match) throw new Error(`expected <model>@<alias>, e.g. credit-risk@production; got '${text}'`);
  const alias = match[2] ?? 'production';
  if (/^\d+$/.test(alias))
    throw new Error(
      `'${text}' names a version; serve an alias (credit-risk@production), which the server follows as it moves`,
    );
  return { name: match[1]!, alias };
}

export interface StartOptions extends Omit<ModelServerOptions, 'source' | 'models'> {
  port: number;
  host: string;
}

/** A running server: where it listens, and a `curl` line per model that works as printed. */
export interface Serving {
  server: ModelServer;
  url: string;
  examples: string[];
}

/**
 * Starts a model server on `host:port`, loads every target (readiness turns true), and returns
 * example requests: one row with every feature null, which each model imputes.
 */
export async function startServing(
  source: ServingSource,
  targets: ServedTarget[],
  options: StartOptions,
): Promise<Serving> {
  if (targets.length === 0)
    throw new Error(
      'nothing to serve: name a model and alias (kiln serve credit-risk@production), or promote a version to production',
    );
  const { port, host, ...rest } = options;
  const server = createModelServer({ ...rest, source, models: targets });
  try {
    await server.app.listen({ port, host });
    await server.load();
  } catch (error) {
    await server.close();
    throw error;
  }
  const shown = host.includes(':') ? `[${host}]` : host;
  const address = server.app.server.address();
  const url = `http://${shown}:${typeof address === 'object' && address ? address.port : port}`;
  const examples = [...server.models.values()].map((m) => {
    const row = Object.fromEntries((m.validator?.predictor.signature.features ?? []).map((f) => [f.name, null]));
    return `curl -s ${url}/v1/models/${m.name}/predict -H 'content-type: application/json' -d '${JSON.stringify(row)}'`;
  });
  return { server, url, examples };
}
