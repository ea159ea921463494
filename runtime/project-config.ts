import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';

/** The file `kiln dev`, `kiln worker` and `kiln run` read at the project root (the working directory). */
const PROJECT_CONFIG_FILE = 'kiln.config.ts';

const projectConfig = z.strictObject({
  steps: z
    .array(z.string().min(1))
    .default([])
    .describe('step modules, each exporting default a list of implement(...)'),
  pipelines: z.array(z.string().min(1)).default([]).describe('pipeline modules, runnable by their pipeline name'),
  defaults: z
    .strictObject({ taskQueue: z.string().min(1).optional() })
    .default({})
    .describe('what the commands use when no flag or environment variable says otherwise'),
});

/** What a `kiln.config.ts` exports by default (`defineConfig` from 'kiln' types it). */
export type ProjectConfig = z.input<typeof projectConfig>;

/** A project's configuration with every path absolute. */
export interface ResolvedProjectConfig {
  file: string;
  steps: string[];
  pipelines: string[];
  defaults: { taskQueue?: string };
}

/** A `kiln.config.ts` that cannot be used; the message names the file and the field. */
export class ProjectConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'ProjectConfigError';
  }
}

/**
 * Reads `kiln.config.ts` from `root` when there is one. Module paths are relative to the root
 * and must stay inside it: a project's config names the project's own files.
 */
export async function loadProjectConfig(root = process.cwd()): Promise<ResolvedProjectConfig | undefined> {
  const file = join(resolve(root), PROJECT_CONFIG_FILE);
  if (!(await stat(file).catch(() => undefined))?.isFile()) return undefined;
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new ProjectConfigError(file, `cannot be loaded: ${(error as Error).message}`, { cause: error });
  }
  const parsed = projectConfig.safeParse(exported);
  if (!parsed.success)
    throw new ProjectConfigError(
      file,
      `export default defineConfig({ steps, pipelines, defaults }) is expected: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    );
  const inside = (field: string) => (path: string, i: number) => {
    const absolute = resolve(dirname(file), path);
    const rel = relative(dirname(file), absolute);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new ProjectConfigError(
        file,
        `${field}[${i}] '${path}' is outside the project folder ${dirname(file)}; name a module inside it`,
      );
    return absolute;
  };
  return {
    file,
    steps: parsed.data.steps.map(inside('steps')),
    pipelines: parsed.data.pipelines.map(inside('pipelines')),
    defaults: parsed.data.defaults,
  };
}

/**
 * What a command uses once flags, the environment and `kiln.config.ts` are combined: the step
 * modules of the flags and of the config (each once), and the task queue of the environment,
 * else of the config's defaults, else Kiln's.
 */
export async function projectSettings(
  config: { taskQueue: string },
  flags: { steps?: string[] | undefined; taskQueue?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
  root = process.cwd(),
): Promise<{ taskQueue: string; stepModules: string[]; project?: ResolvedProjectConfig }> {
  const project = await loadProjectConfig(root);
  const stepModules = [...new Set([...(flags.steps ?? []).map((f) => resolve(root, f)), ...(project?.steps ?? [])])];
  const taskQueue =
    flags.taskQueue ?? (env.KILN_TASK_QUEUE ? config.taskQueue : (project?.defaults.taskQueue ?? config.taskQueue));
  return { taskQueue, stepModules, ...(project ? { project } : {}) };
}
