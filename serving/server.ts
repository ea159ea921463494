import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { EngineChoice } from './engines';
import { RequestError } from './errors';
import { outputOf, shownOutput } from './output';
import { servingMetrics, UNKNOWN_MODEL, type ServingMetrics } from './metrics';
import { PredictionLog, type PredictionLogOptions } from './prediction-log';
import { ServedModel, type LoadedVersion } from './served-model';
import type { Route, ServingSource } from './source';

/** A model to serve, by registry name and alias: `credit-risk` at `production`. */
export interface ServedTarget {
  name: string;
  alias: string;
  /** Fields of this model's rows logged only as keyed hashes (added to the server-wide list). */
  sensitive?: string[];
}

export interface ModelServerOptions {
  source: ServingSource;
  models: ServedTarget[];
  /** `auto` (default): the faster engine for each model kind. */
  engine?: EngineChoice;
  /** Largest request body in bytes; default 4 MiB. Larger bodies get 413. */
  bodyLimit?: number;
  /** Most rows in one request; default 1000. More get 413. */
  maxRows?: number;
  /** How often the store is asked where each alias points and how traffic is split; default 1000 ms. */
  pollMs?: number;
  /** A binary model predicts its positive class at or above this probability; default 0.5. */
  threshold?: number;
  /** The prediction log (default: every request), or false for none. `sensitive` applies to every model. */
  log?: false | (PredictionLogOptions & { sensitive?: string[] });
  /** Reports a failed refresh or log write (default: console.error); serving goes on with what is loaded. */
  onError?: (error: unknown, context: string) => void;
}

export interface ModelServer {
  readonly app: FastifyInstance;
  readonly metrics: ServingMetrics;
  readonly log: PredictionLog | undefined;
  readonly models: ReadonlyMap<string, ServedModel>;
  /** Loads every served model (readiness turns true) and starts following alias moves. */
  load(): Promise<void>;
  /** Asks the store now instead of waiting for the next poll. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/** Names a route can carry as a path segment as they are. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

interface Parsed {
  rows: Record<string, unknown>[];
  batch: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The served model a predict route belongs to. */
    model?: string;
  }
  interface FastifyRequest {
    kilnVersion: number | null;
  }
}

const LABEL_SCHEMA = { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

/**
 * A fastify server for registered models: `POST /v1/models/:name/predict` and `/feedback`,
 * `/healthz`, `/readyz`, `/metrics`. It follows alias moves and traffic splits in the store.
 * @example
 * const server = createModelServer({ source: storeSource(store, artifacts), models: [{ name: 'credit-risk', alias: 'production' }] });
 * await server.app.listen({ port: 8080 }); await server.load();
 */
export function createModelServer(options: ModelServerOptions): ModelServer {
  const maxRows = options.maxRows ?? 1000;
  const bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
  const threshold = options.threshold ?? 0.5;
  const onError = options.onError ?? ((error, context) => console.error(`kiln serve: ${context}:`, error));
  const metrics = servingMetrics();
  const models = new Map<string, ServedModel>();
  const sensitive = new Map<string, ReadonlySet<string>>();
  for (const target of options.models) {
    if (!MODEL_NAME.test(target.name))
      throw new Error(
        `cannot serve model '${target.name}': a served name is letters, digits, '.', '_' and '-' (it is a URL path segment)`,
      );
    if (models.has(target.name)) throw new Error(`model '${target.name}' is listed twice; serve one alias per model`);
    const model = new ServedModel(target.name, target.alias, options.source, {
      engine: options.engine ?? 'auto',
      maxRows,
      onSwap: (m) => {
        metrics.served(m.name, m.alias, 'current', m.state.current);
        metrics.served(m.name, m.alias, 'candidate', m.state.candidate);
      },
    });
    models.set(target.name, model);
    const logOptions = options.log === false ? undefined : options.log;
    sensitive.set(target.name, new Set([...(logOptions?.sensitive ?? []), ...(target.sensitive ?? [])]));
  }
  const log =
    options.log === false
      ? undefined
      : new PredictionLog(
          (rows) => options.source.writePredictions(rows),
          {
            written: (n) => metrics.logged('written', n),
            dropped: (n) => metrics.logged('dropped', n),
            failed: (n, error) => {
              metrics.logged('failed', n);
              onError(error, `writing ${n} prediction log rows (kept for the next write)`);
            },
          },
          options.log,
          (rows) => options.source.writeErrors(rows),
        );

  const app = Fastify({
    bodyLimit,
    genReqId: () => randomUUID(),
    // A request for a model name made of many segments or megabytes of path is not a model.
    routerOptions: { maxParamLength: 200 },
  });
  app.decorateRequest('kilnVersion', null);

  app.setErrorHandler((error: FastifyError | RequestError, request, reply) => {
    if (error instanceof RequestError) {
      return reply.code(error.statusCode).send({ error: error.code, message: error.message, ...error.where });
    }
    const status = error.statusCode ?? 500;
    if (status === 413)
      return reply.code(413).send({
        error: 'BodyTooLarge',
        message: `the request body is over this server's limit of ${bodyLimit} bytes; send fewer rows per request`,
      });
    if (status < 500) return reply.code(status).send({ error: error.code ?? 'BadRequest', message: error.message });
    onError(error, `${request.method} ${request.url}`);
    return reply.code(500).send({ error: 'InternalError', message: 'the server failed to answer; see its log' });
  });

  app.addHook('onResponse', async (request, reply) => {
    const name = request.routeOptions.config.model;
    if (name === undefined) return;
    const served = models.get(name);
    const version = request.kilnVersion ?? served?.state.current ?? null;
    metrics.observe(served ? name : UNKNOWN_MODEL, version, reply.statusCode, reply.elapsedTime / 1000);
  });

  const notServed = (name: string) =>
    new RequestError(
      404,
      'ModelNotFound',
      `no model '${name.length > 100 ? `${name.slice(0, 100)}…` : name}' is served here; served: ${[...models.keys()].join(', ') || 'none'}`,
    );

  async function score(served: ServedModel, version: LoadedVersion, rows: Record<string, unknown>[]) {
    const started = performance.now();
    const raw = await version.predictor.predict(rows);
    const latencyMs = performance.now() - started;
    const { signature } = version.predictor;
    return { outputs: raw.map((p) => outputOf(signature, p, threshold)), latencyMs, signature };
  }

  /** A failure of the version itself (the caller gets a 500), not of the request (400, 404, 413). */
  const versionFailed = (error: unknown) => !(error instanceof RequestError && error.statusCode < 500);

  const logFailure = (requestId: string, name: string, version: number, route: Route, error: unknown) =>
    log!.add({ kind: 'error', requestId, model: name, version, route, at: new Date(), error });

  async function mirror(
    served: ServedModel,
    shadow: LoadedVersion,
    rows: Record<string, unknown>[],
    requestId: string,
    logged: boolean,
  ) {
    const { outputs, latencyMs } = await score(served, shadow, rows);
    metrics.rows(served.name, shadow.version, 'shadow', rows.length);
    if (logged)
      log!.add({
        requestId,
        model: served.name,
        version: shadow.version,
        route: 'shadow',
        served: false,
        at: new Date(),
        rows,
        outputs,
        latencyMs,
        sensitive: sensitive.get(served.name)!,
      });
  }

  for (const [name, served] of models) {
    app.post(
      `/v1/models/${name}/predict`,
      {
        config: { model: name },
        schema: { body: { type: ['object', 'array', 'string', 'number', 'boolean', 'null'] } },
        // The check is the current version's, compiled from its signature when it was loaded.
        validatorCompiler: () => (body: unknown) => {
          const current = served.validator;
          if (!current) return { error: new RequestError(503, 'NotReady', `model '${name}' is still loading`) };
          try {
            return { value: current.validate(body) };
          } catch (error) {
            if (error instanceof RequestError) return { error };
            throw error;
          }
        },
      },
      async (request, reply) => {
        const { rows, batch } = request.body as Parsed;
        const pick = served.pick();
        let mirrored = false;
        // Decided once per request, before scoring: a failure is sampled like an answer, so the error rate stays true.
        const logged = log !== undefined && log.sampled();
        try {
          const { target, route, shadow } = pick;
          request.kilnVersion = target.version;
          if (target.signatureKey !== served.validator?.signatureKey) target.validate(batch ? { rows } : rows[0]);
          const { outputs, latencyMs, signature } = await score(served, target, rows);
          metrics.rows(name, target.version, route, rows.length);
          const at = new Date();
          if (logged)
            log.add({
              requestId: request.id,
              model: name,
              version: target.version,
              route,
              served: true,
              at,
              rows,
              outputs,
              latencyMs,
              sensitive: sensitive.get(name)!,
            });
          if (shadow) {
            mirrored = true;
            // After the answer is sent: the caller never waits for the shadow.
            setImmediate(() => {
              mirror(served, shadow, rows, request.id, logged)
                .catch((error: unknown) => {
                  if (logged) logFailure(request.id, name, shadow.version, 'shadow', error);
                  onError(error, `shadow of ${name} v${shadow.version}`);
                })
                .finally(pick.release);
            });
          }
          const head = { requestId: request.id, model: name, version: target.version };
          const shown = (o: (typeof outputs)[number]) => shownOutput(signature, o);
          reply.header('x-request-id', request.id);
          return batch ? { ...head, predictions: outputs.map(shown) } : { ...head, ...shown(outputs[0]!) };
        } catch (error) {
          if (logged && versionFailed(error)) logFailure(request.id, name, pick.target.version, pick.route, error);
          throw error;
        } finally {
          if (!mirrored) pick.release();
        }
      },
    );
  }

  app.post('/v1/models/:name/predict', { config: { model: '' } }, async (request: FastifyRequest) => {
    throw notServed((request.params as { name: string }).name);
  });

  app.post(
    '/v1/models/:name/feedback',
    {
      schema: {
        body: {
          type: 'object',
          required: ['requestId'],
          additionalProperties: false,
          properties: {
            requestId: { type: 'string', minLength: 1, maxLength: 128 },
            label: LABEL_SCHEMA,
            row: { type: 'integer', minimum: 0 },
            labels: { type: 'array', minItems: 1, maxItems: maxRows, items: LABEL_SCHEMA },
          },
        },
      },
    },
    async (request) => {
      const { name } = request.params as { name: string };
      const served = models.get(name);
      if (!served) throw notServed(name);
      const body = request.body as { requestId: string; label?: unknown; row?: number; labels?: unknown[] };
      if ((body.label === undefined) === (body.labels === undefined))
        throw new RequestError(
          400,
          'InvalidRequest',
          'send the true label of one row as "label" (with "row" for a row of a batch, default 0), or of every row as "labels"',
        );
      if (!log)
        throw new RequestError(
          409,
          'NoPredictionLog',
          'this server keeps no prediction log, so there is nothing to label',
        );
      const labels =
        body.labels !== undefined
          ? body.labels.map((label, row) => ({ row, label: String(label) }))
          : [{ row: body.row ?? 0, label: String(body.label) }];
      // The request may have been answered a moment ago: its rows must be in the store first.
      await log.flush();
      const labelled = await options.source.attachLabels({ model: name, requestId: body.requestId, labels });
      if (labelled.length === 0)
        throw new RequestError(
          404,
          'PredictionNotFound',
          `request '${body.requestId}' of model '${name}' is not in the prediction log (not sampled, or past retention)`,
        );
      return { requestId: body.requestId, model: name, labelled };
    },
  );

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const state = Object.fromEntries([...models].map(([name, m]) => [name, m.state]));
    const ready = [...models.values()].every((m) => m.loaded);
    return reply.code(ready ? 200 : 503).send({ ready, models: state });
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const refreshAll = async (report: boolean) => {
    await Promise.all(
      [...models.values()].map(async (m) => {
        try {
          if (await m.refresh()) metrics.swap(m.name, 'swapped');
        } catch (error) {
          metrics.swap(m.name, 'failed');
          if (!report) throw error;
          onError(error, `refreshing ${m.name}@${m.alias} (serving what is loaded)`);
        }
      }),
    );
  };
  const poll = () => {
    timer = setTimeout(async () => {
      await refreshAll(true);
      if (!closed) poll();
    }, options.pollMs ?? 1000);
    timer.unref();
  };

  return {
    app,
    metrics,
    log,
    models,
    async load() {
      await refreshAll(false);
      if (!closed && !timer) poll();
    },
    refresh: () => refreshAll(false),
    async close() {
      closed = true;
      clearTimeout(timer);
      await app.close();
      await log?.close();
      await Promise.all([...models.values()].map((m) => m.close()));
    },
  };
}
