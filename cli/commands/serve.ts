import { parseArgs } from 'node:util';
import { ArtifactStore } from '../../activities/artifacts/store';
import { parseTarget, productionModels, startServing, storeSource, type EngineChoice } from '../../serving';
import { sensitiveTrainingColumns } from '../../serving/training-tags';
import { StoreSharedError } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, openKilnStore } from '../store';

export const help = `kiln serve [name@alias ...] [--port 8080] [--host 127.0.0.1] [options]
  Serves registered models over HTTP until SIGINT/SIGTERM (default: every model with a
  production alias), following alias moves and traffic splits in the store (hot swap).
  POST /v1/models/<name>/predict   one row ({ "age": 35, ... }) or { "rows": [ ... ] }
  POST /v1/models/<name>/feedback  { "requestId": "...", "label": "bad" } (or "labels": [...])
  GET /healthz, /readyz, /metrics (Prometheus)
  --engine auto|kiln|onnx  how versions run (auto: the faster for the model's kind)
  --max-rows N       most rows per request (default 1000; more get 413)
  --body-limit B     largest body in bytes (default 4194304; larger get 413)
  --poll-ms MS       how often the store is asked where aliases point (default 1000)
  --sample R         share of requests in the prediction log, 0 to 1 (default 1)
  --sensitive a,b    fields logged only as keyed hashes (key: KILN_LOG_HASH_KEY), besides the columns
                     tagged sensitive in the model's training data, which always are
  --no-log           keep no prediction log
  --token TOKEN      act as this token's principal (viewer role or above)`;

const number = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got '${text}'`);
  return value;
};

export async function serve(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      engine: { type: 'string', default: 'auto' },
      'max-rows': { type: 'string' },
      'body-limit': { type: 'string' },
      'poll-ms': { type: 'string' },
      sample: { type: 'string' },
      sensitive: { type: 'string' },
      'no-log': { type: 'boolean' },
      token: { type: 'string' },
    },
  });
  if (!['auto', 'kiln', 'onnx'].includes(values.engine))
    throw new Error(`--engine is auto, kiln or onnx; got '${values.engine}'`);
  const config = loadConfig();
  // Long-lived like a worker: it serves a PGlite store to other commands, unless one already does.
  const store = await openKilnStore(config, { share: true }).catch((error: unknown) => {
    if (error instanceof StoreSharedError) return openKilnStore(config);
    throw error;
  });
  try {
    const actor = await caller(store, config, print, values.token);
    const artifacts = new ArtifactStore(config.artifactsDir);
    const named = positionals.length > 0 ? positionals.map(parseTarget) : await productionModels(store, actor);
    const targets = await Promise.all(
      named.map(async (target) => {
        const tagged = await sensitiveTrainingColumns(store, artifacts, actor, target.name);
        if (tagged.length > 0)
          print(`${target.name}: logging ${tagged.join(', ')} as keyed hashes (tagged sensitive in its training data)`);
        return { ...target, sensitive: tagged };
      }),
    );
    const sample = number('sample', values.sample);
    const { server, url, examples } = await startServing(storeSource(store, artifacts, actor), targets, {
      port: number('port', values.port)!,
      host: values.host,
      engine: values.engine as EngineChoice,
      ...(values['max-rows'] ? { maxRows: number('max-rows', values['max-rows'])! } : {}),
      ...(values['body-limit'] ? { bodyLimit: number('body-limit', values['body-limit'])! } : {}),
      ...(values['poll-ms'] ? { pollMs: number('poll-ms', values['poll-ms'])! } : {}),
      log: values['no-log']
        ? false
        : {
            ...(sample === undefined ? {} : { sample }),
            sensitive: values.sensitive?.split(',').filter(Boolean) ?? [],
          },
    });
    for (const [name, model] of server.models)
      print(`Serving ${name}@${model.alias} v${model.state.current} at ${url}`);
    print(`Try:\n${examples.map((e) => `  ${e}`).join('\n')}\nCtrl-C stops it.`);
    await new Promise<void>((stop) => {
      process.once('SIGINT', () => stop());
      process.once('SIGTERM', () => stop());
    });
    await server.close();
  } finally {
    await store.close();
  }
  return 0;
}
