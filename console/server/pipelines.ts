import { relative } from 'node:path';
import { compile, type AnyPipeline, type PipelinePlan } from '../../dsl';
import { loadPipeline } from '../../cli/load-pipeline';
import { checkParams } from '../../cli/params';
import type { PipelineInfo } from '../api';
import { ApiInputError } from './errors';

interface Entry {
  file: string;
  pipeline: AnyPipeline;
  plan: PipelinePlan;
}

/**
 * The pipelines the console may start: the modules it was given (`kiln console --pipeline`), by
 * name. A browser names a pipeline, never a file, so no request reaches a path of its choosing.
 */
export class PipelineCatalog {
  private loaded?: Promise<Map<string, Entry>>;

  constructor(
    private readonly files: readonly string[],
    private readonly warn: (message: string) => void = () => {},
  ) {}

  private entries(): Promise<Map<string, Entry>> {
    this.loaded ??= (async () => {
      const byName = new Map<string, Entry>();
      for (const file of this.files) {
        try {
          const pipeline = await loadPipeline(file);
          byName.set(pipeline.name, { file, pipeline, plan: compile(pipeline) });
        } catch (error) {
          this.warn(`console: ${file} is left out of the pipelines it can start: ${(error as Error).message}`);
        }
      }
      return byName;
    })();
    return this.loaded;
  }

  async list(): Promise<PipelineInfo[]> {
    return [...(await this.entries()).values()].map(({ file, plan }) => ({
      name: plan.name,
      file: relative(process.cwd(), file),
      ...(plan.description ? { description: plan.description } : {}),
      params: Object.entries(plan.params).map(([name, spec]) => ({
        name,
        required: spec.required,
        ...(spec.type !== undefined ? { type: spec.type } : {}),
        ...(spec.default !== undefined ? { default: spec.default } : {}),
        ...(spec.description !== undefined ? { description: spec.description } : {}),
      })),
    }));
  }

  /** The plan of a known pipeline and its parameters checked against the pipeline's own schema. */
  async plan(
    name: string,
    given: Record<string, unknown>,
  ): Promise<{ plan: PipelinePlan; params: Record<string, unknown> }> {
    const entries = await this.entries();
    const entry = entries.get(name);
    if (!entry)
      throw new ApiInputError(
        `pipeline '${name}' is not one the console can start; it knows ${[...entries.keys()].join(', ') || 'none (start kiln console with --pipeline FILE)'}`,
        404,
      );
    try {
      return { plan: entry.plan, params: checkParams(entry.pipeline, given) };
    } catch (error) {
      throw new ApiInputError(`body.params: ${(error as Error).message}`);
    }
  }
}
