import { bundleWorkflowCode } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DETERMINISTIC = ['dsl', 'workflows'].map((d) => join(root, d));

// Workflow code is replayed: it may not reach the store, the network, the file system or ML runtimes.
const FORBIDDEN = [
  /^(node:)?(fs|path|crypto|os|child_process|net|http|https|stream|zlib|worker_threads|dns|tls)(\/|$)/,
  /^(pg|drizzle-orm|@electric-sql\/pglite|onnxruntime-[a-z]+|@tensorflow\/.*)(\/|$)/,
  /^@temporalio\/(worker|client|activity|testing)(\/|$)/,
];
const FORBIDDEN_FOLDERS = ['activities', 'store', 'serving', 'monitor', 'workers', 'runtime', 'cli'].map(
  (d) => join(root, d) + '/',
);

export class DeterminismBoundaryError extends Error {
  constructor(importer: string, request: string) {
    super(
      `${relative(root, importer)} imports '${request}': code in dsl/ and workflows/ is replayed by Temporal and must not import Node, the store, activities or ML runtimes (use \`import type\` for types)`,
    );
    this.name = 'DeterminismBoundaryError';
  }
}

function forbidden(importer: string, request: string): boolean {
  if (!DETERMINISTIC.some((d) => importer.startsWith(d + '/'))) return false;
  if (request.startsWith('.')) return FORBIDDEN_FOLDERS.some((f) => resolve(dirname(importer), request).startsWith(f));
  return FORBIDDEN.some((re) => re.test(request));
}

interface ResolveData {
  request: string;
  contextInfo: { issuer: string };
}
interface Compiler {
  hooks: {
    normalModuleFactory: {
      tap(
        name: string,
        fn: (nmf: { hooks: { beforeResolve: { tap(name: string, fn: (data: ResolveData) => void): void } } }) => void,
      ): void;
    };
  };
}

const boundaryPlugin = {
  apply(compiler: Compiler) {
    compiler.hooks.normalModuleFactory.tap('kiln-determinism', (factory) => {
      factory.hooks.beforeResolve.tap('kiln-determinism', (data) => {
        if (forbidden(data.contextInfo.issuer, data.request))
          throw new DeterminismBoundaryError(data.contextInfo.issuer, data.request);
      });
    });
  },
};

async function sourceHash(dirs: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    const files = (await readdir(dir, { recursive: true }))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .sort();
    for (const file of files) hash.update(file).update(await readFile(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles the workflows for the worker, refusing imports that cross the determinism boundary.
 * The bundle is cached by a hash of the workflow and DSL sources, so workers start quickly.
 * `traced` adds the OpenTelemetry workflow interceptors (workers/telemetry.ts); an untraced bundle has none.
 */
export async function workflowBundle(
  options: { workflowsPath?: string; cacheDir?: string; traced?: boolean } = {},
): Promise<{ code: string }> {
  const workflowsPath = options.workflowsPath ?? join(root, 'workflows', 'index.ts');
  const cacheDir = options.cacheDir ?? join(root, '.kiln', 'cache');
  const custom = options.workflowsPath !== undefined;
  const key = custom ? undefined : await sourceHash(DETERMINISTIC);
  const cached = key && join(cacheDir, `workflows-${key}${options.traced ? '-traced' : ''}.js`);
  if (cached) {
    const code = await readFile(cached, 'utf8').catch(() => undefined);
    if (code) return { code };
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...(options.traced ? { workflowInterceptorModules: [join(root, 'workflows', 'telemetry-interceptors.ts')] } : {}),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} } as never,
    webpackConfigHook: (config) => ({ ...config, plugins: [...(config.plugins ?? []), boundaryPlugin as never] }),
  });
  if (cached) {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    await writeFile(tmp, code);
    await rename(tmp, cached);
  }
  return { code };
}
