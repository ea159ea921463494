import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical';
import { PlanError } from './errors';
import type { ParamSpec, PipelinePlan } from './plan';
import { buildNodes, type AnyPipeline } from './pipeline';
import { validatePlan, type StepCatalog } from './validate';

function paramSpecs(schema: z.ZodObject<z.ZodRawShape>): Record<string, ParamSpec> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; default?: unknown; description?: string }>;
    required?: string[];
  };
  return Object.fromEntries(
    Object.entries(json.properties ?? {}).map(([name, p]) => [
      name,
      {
        ...(p.type ? { type: p.type } : {}),
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.description ? { description: p.description } : {}),
        required: (json.required ?? []).includes(name) && p.default === undefined,
      },
    ]),
  );
}

/** Hashes a plan's content; the hash names the plan version in runs and lineage. */
export const planHash = (plan: Omit<PipelinePlan, 'hash'>) => sha256Hex(canonicalJson(plan));

/**
 * Compiles a pipeline to its JSON plan, validated and content-hashed.
 * @example const plan = compile(creditRisk); await client.workflow.start(runPipeline, { args: [{ plan, params }], ... });
 */
export function compile(def: AnyPipeline, catalog?: StepCatalog): PipelinePlan {
  let built;
  try {
    built = buildNodes(def);
  } catch (error) {
    if (error instanceof PlanError) throw error;
    throw new PlanError('', undefined, `building pipeline '${def.name}' failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const body = {
    kind: 'kiln.plan' as const,
    formatVersion: 1 as const,
    name: def.name,
    version: def.version,
    ...(def.description ? { description: def.description } : {}),
    params: paramSpecs(def.params),
    nodes: built.nodes,
    ...(built.output ? { output: built.output } : {}),
    defaults: def.defaults,
  };
  const plan: PipelinePlan = { ...body, hash: planHash(body) };
  validatePlan(plan, catalog);
  return plan;
}
