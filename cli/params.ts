import { z } from 'zod';
import type { AnyPipeline } from '../dsl';

/** Parses `--param k=v` pairs; a value is JSON when it parses as JSON, else a string. */
export function parseParamArgs(pairs: string[] = []): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--param '${pair}' must look like name=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: the value is the plain string, as typed.
    }
    params[pair.slice(0, eq)] = value;
  }
  return params;
}

/** Checks parameters against the pipeline's own schema, so mistakes surface before a run starts. */
export function checkParams(pipeline: AnyPipeline, given: Record<string, unknown>): Record<string, unknown> {
  const known = Object.keys(pipeline.params.shape);
  for (const name of Object.keys(given)) {
    if (!known.includes(name))
      throw new Error(`unknown parameter '${name}'; ${pipeline.name} takes ${known.join(', ') || 'none'}`);
  }
  const parsed = pipeline.params.safeParse(given);
  if (!parsed.success)
    throw new Error(`invalid parameters for ${pipeline.name}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data as Record<string, unknown>;
}
