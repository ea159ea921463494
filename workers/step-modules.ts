import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import type { StepImpl } from '../activities/library';

/** A step module as a worker loaded it: its steps, and the code they run by hash. */
export interface StepModule {
  file: string;
  /** sha256 of the bundled module (the module and the project files it imports): what `version: 'auto'` is. */
  codeHash: string;
  /** The project's own files the bundle holds: editing one of them changes the module's code. */
  inputs: string[];
  steps: StepImpl[];
}

/** A step module that cannot be loaded; the message names the file and what it must export. */
export class StepModuleError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'StepModuleError';
  }
}

// Kiln's own source, as installed: a step module that reaches into it by a relative path (as
// tests in this repository do) must share Kiln's modules, not bundle copies of them.
const KILN_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KILN_SOURCE = [
  'activities',
  'cli',
  'dsl',
  'runtime',
  'sdk',
  'store',
  'workers',
  'workflows',
  'serving',
  'monitor',
].map((dir) => join(KILN_ROOT, dir) + sep);
const isKilnSource = (path: string) => KILN_SOURCE.some((dir) => path.startsWith(dir));

// Packages and Kiln's own files stay imports of the very files Node would load (one copy of
// 'kiln' and of zod for the whole process), named by absolute URL so that the bundle can live
// under KILN_HOME. Only the project's own files are bundled: they are what a reload reloads.
const sharedByUrl: Plugin = {
  name: 'kiln-shared-by-url',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'kiln-inner' || args.kind === 'entry-point' || isBuiltin(args.path)) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'kiln-inner',
      });
      if (found.errors.length) return { errors: found.errors };
      const bare = !args.path.startsWith('.') && !args.path.startsWith('/');
      if (bare || isKilnSource(found.path)) return { path: pathToFileURL(found.path).href, external: true };
      return { path: found.path };
    });
  },
};

/**
 * Loads a module whose default export is a list of step implementations. It is bundled first
 * (its own imports of project files included), so that loading an edited module again runs the
 * edited code, and the bundle's hash says which code a step runs.
 */
export async function loadStepModule(file: string, bundleDir: string): Promise<StepModule> {
  const path = resolve(file);
  let bundled;
  try {
    bundled = await build({
      entryPoints: [path],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      conditions: [],
      mainFields: ['main'],
      metafile: true,
      logLevel: 'silent',
      plugins: [sharedByUrl],
    });
  } catch (error) {
    throw new StepModuleError(file, `cannot be compiled: ${(error as Error).message}`, { cause: error });
  }
  const code = bundled.outputFiles[0]!.text;
  const codeHash = createHash('sha256').update(code).digest('hex');
  await mkdir(bundleDir, { recursive: true, mode: 0o700 });
  const out = join(bundleDir, `${basename(path).replace(/\.[cm]?[jt]sx?$/, '')}-${codeHash.slice(0, 16)}.mjs`);
  await writeFile(out, code, { mode: 0o600 });
  const mod = (await import(pathToFileURL(out).href)) as { default?: unknown };
  const steps = mod.default;
  if (!Array.isArray(steps) || !steps.every((s) => s && typeof s === 'object' && 'def' in s && 'run' in s))
    throw new StepModuleError(file, 'must export default a list of step implementations: [implement(def, fn), …]');
  const inputs = Object.keys(bundled.metafile.inputs).map((input) => resolve(input));
  return {
    file: path,
    codeHash,
    inputs,
    steps: (steps as StepImpl[]).map((impl) => ({ ...impl, codeHash })),
  };
}
