import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyStatic from '@fastify/static';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { Store } from '../../store';
import { loadConfig } from '../../runtime/config';
import type { PipelineInfo } from '../api';
import type { ConsoleContext } from './context';
import { httpError } from './errors';
import { PipelineCatalog } from './pipelines';
import { approvalRoutes } from './routes/approvals';
import { auditRoutes } from './routes/audit';
import { lineageRoutes } from './routes/lineage';
import { modelRoutes } from './routes/models';
import { operationRoutes } from './routes/operations';
import { runRoutes } from './routes/runs';
import { sessionRoutes } from './session';

/** The built web app, beside this folder. */
const defaultWebDist = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

export interface ConsoleOptions {
  store: Store;
  client: Client;
  /** Where runs started from the console go; KILN_TASK_QUEUE (kiln) by default. */
  taskQueue?: string;
  /** The Temporal Web UI and namespace for run links; from the environment by default. */
  temporal?: { uiUrl: string; namespace: string };
  /** The artifact store the worker writes (its reports feed a model version's curves); KILN_ARTIFACTS by default. */
  artifactsDir?: string;
  /** Pipeline modules the console may start, by their name. */
  pipelines?: string[];
  /** Modules of steps the worker runs besides the built-ins, so runs of their pipelines may start. */
  stepModules?: string[];
  /** KILN_HOME, where running workers advertise their steps: a run's steps are checked against those too. */
  kilnHome?: string;
  /** The built web app; `console/web/dist` by default, served only when it exists. */
  webDist?: string;
  /** Mark the session cookie Secure (behind TLS). */
  secureCookies?: boolean;
  /** Largest request body in bytes; 64 KiB by default. */
  bodyLimit?: number;
  /** How often a run's event stream polls its status; 1 s by default. */
  pollMs?: number;
  /** Lines for the operator (pipelines left out, errors of 500 responses). */
  log?: (line: string) => void;
}

export interface ConsoleServer {
  app: FastifyInstance;
  /** Listens (127.0.0.1 unless told otherwise) and returns the base URL. */
  listen(options?: { host?: string; port?: number }): Promise<string>;
  close(): Promise<void>;
}

/**
 * Kiln's console: the JSON API of console/api.ts over the store and Temporal, and the web app.
 * Every route but sign-in needs a session; the store checks each action's role and audits it.
 */
export async function createConsoleServer(options: ConsoleOptions): Promise<ConsoleServer> {
  const config = loadConfig();
  const log = options.log ?? (() => {});
  const ctx: ConsoleContext = {
    store: options.store,
    client: options.client,
    taskQueue: options.taskQueue ?? config.taskQueue,
    temporal: options.temporal ?? { uiUrl: config.uiUrl, namespace: config.namespace },
    artifacts: new ArtifactStore(options.artifactsDir ?? config.artifactsDir),
    pipelines: new PipelineCatalog(options.pipelines ?? [], log),
    stepModules: options.stepModules ?? [],
    ...(options.kilnHome ? { kilnHome: options.kilnHome } : {}),
    pollMs: options.pollMs ?? 1000,
  };
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    // Run ids are workflow ids, which may be long; the routes' schemas bound them.
    routerOptions: { maxParamLength: 1000 },
    // A field the API does not know is refused, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    logger: false,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'strict', secure: Boolean(options.secureCookies) },
    // Each token is bound to the session it was made for: one session's token is no use in another.
    csrfOpts: { userInfo: true, hmacKey: randomBytes(32).toString('hex') },
    getUserInfo: (request) => request.sessionId,
    getToken: (request) => request.headers['x-csrf-token'] as string | undefined,
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, message } = httpError(error, `${request.method} ${request.url.split('?')[0]}`);
    if (status >= 500) log(`console: ${message}\n${(error as Error).stack ?? ''}`);
    reply.code(status).send({ error: message });
  });

  sessionRoutes(app, ctx.store, { secureCookies: Boolean(options.secureCookies) });
  app.get('/api/pipelines', async (): Promise<PipelineInfo[]> => ctx.pipelines.list());
  runRoutes(app, ctx);
  approvalRoutes(app, ctx);
  modelRoutes(app, ctx);
  lineageRoutes(app, ctx);
  operationRoutes(app, ctx);
  auditRoutes(app, ctx);

  const webDist = options.webDist ?? defaultWebDist;
  const web = existsSync(join(webDist, 'index.html'));
  if (web) await app.register(fastifyStatic, { root: webDist, wildcard: false });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // A client route (/runs/abc) is the web app's to draw: it gets index.html; a missing file (/x.js) does not.
    if (web && request.method === 'GET' && !path.startsWith('/api/') && !/\.[a-z0-9]+$/i.test(path))
      return reply.sendFile('index.html');
    reply.code(404).send({
      error: path.startsWith('/api/')
        ? `${request.method} ${path}: no such API route`
        : web
          ? `${path}: no such file in the web app`
          : `${path}: the web app is not built (npm run build in console/web)`,
    });
  });

  return {
    app,
    async listen({ host = '127.0.0.1', port = 0 } = {}) {
      await app.listen({ host, port });
      const address = app.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
    },
    close: () => app.close(),
  };
}
