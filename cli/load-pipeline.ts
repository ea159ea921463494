import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compile, validatePlan, type AnyPipeline, type PipelinePlan } from '../dsl';

const isPipeline = (value: unknown): value is AnyPipeline =>
  typeof value === 'object' && value !== null && 'build' in value && 'params' in value && 'name' in value;

/** Loads a pipeline from a TypeScript module (its default export, or its only exported pipeline). */
export async function loadPipeline(file: string): Promise<AnyPipeline> {
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

/** A plan from a pipeline module or a plan JSON file, with the pipeline when there is one. */
export async function loadPlan(file: string): Promise<{ plan: PipelinePlan; pipeline?: AnyPipeline }> {
  if (file.endsWith('.json')) {
    let plan: PipelinePlan;
    try {
      plan = JSON.parse(await readFile(file, 'utf8')) as PipelinePlan;
    } catch (error) {
      throw new Error(`${file} is not a readable JSON plan: ${(error as Error).message}`, { cause: error });
    }
    validatePlan(plan);
    return { plan };
  }
  const pipeline = await loadPipeline(file);
  return { plan: compile(pipeline), pipeline };
}
