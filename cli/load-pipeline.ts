import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, planHash, validatePlan, type AnyPipeline, type PipelinePlan } from '../dsl';

const isPipeline = (value: unknown): value is AnyPipeline =>
  typeof value === 'object' && value !== null && 'build' in value && 'params' in value && 'name' in value;

/** Loads a pipeline from a TypeScript module (its default export, or its only exported pipeline). */
export async function loadPipeline(file: string): Promise<AnyPipeline> {
  await mustExist(file);
  const mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  if (isPipeline(mod.default)) return mod.default;
  const found = Object.values(mod).filter(isPipeline);
  if (found.length === 1) return found[0]!;
  throw new Error(
    found.length
      ? `${file} exports ${found.length} pipelines; export the one to run as default`
      : `${file} exports no pipeline; export default pipeline(...)`,
  );
}

/** Fails naming the user's path, before import() would name this module as the one importing it. */
async function mustExist(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info)
    throw new Error(
      `${file} does not exist (looked for ${resolve(file)}); give the path of a pipeline module or plan.json`,
    );
  if (!info.isFile()) throw new Error(`${file} is not a file; give the path of a pipeline module or plan.json`);
}

/**
 * A plan from a pipeline module or a plan JSON file, with the pipeline when there is one. A JSON
 * plan's hash is recomputed from its content: an edited plan never runs under the old hash.
 */
export async function loadPlan(file: string): Promise<{ plan: PipelinePlan; pipeline?: AnyPipeline }> {
  if (file.endsWith('.json')) {
    await mustExist(file);
    let plan: PipelinePlan;
    try {
      plan = JSON.parse(await readFile(file, 'utf8')) as PipelinePlan;
    } catch (error) {
      throw new Error(`${file} is not a readable JSON plan: ${(error as Error).message}`, { cause: error });
    }
    validatePlan(plan);
    const { hash: _claimed, ...body } = plan;
    return { plan: { ...body, hash: planHash(body) } };
  }
  const pipeline = await loadPipeline(file);
  return { plan: compile(pipeline), pipeline };
}

/**
 * The file of the pipeline to run: `given` when it is a file, else the pipeline of that name among
 * those kiln.config.ts lists (`kiln run wages`). Anything else is left for loadPlan to refuse.
 */
export async function pipelineFile(given: string, project?: { file: string; pipelines: string[] }): Promise<string> {
  if (!project?.pipelines.length || (await stat(given).catch(() => undefined))) return given;
  for (const file of project.pipelines) if ((await loadPipeline(file)).name === given) return file;
  throw new Error(
    `${given} is neither a file nor the name of a pipeline in ${project.file} (${project.pipelines.join(', ')})`,
  );
}
