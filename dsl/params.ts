import { PlanError } from './errors';
import type { PipelinePlan } from './plan';

/** Fills parameter defaults and checks required and primitive types; for plans run without their zod schema. */
export function resolveParams(plan: PipelinePlan, given: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in plan.params))
      throw new PlanError(
        '',
        `params.${name}`,
        `unknown parameter; '${plan.name}' takes ${Object.keys(plan.params).join(', ') || 'none'}`,
      );
  }
  for (const [name, spec] of Object.entries(plan.params)) {
    const value = name in given ? given[name] : spec.default;
    if (value === undefined) {
      if (spec.required) throw new PlanError('', `params.${name}`, 'required parameter is missing');
      continue;
    }
    const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    const fits = !spec.type || spec.type === actual || (spec.type === 'integer' && Number.isInteger(value));
    if (!fits)
      throw new PlanError('', `params.${name}`, `expected ${spec.type}, got ${actual} ${JSON.stringify(value)}`);
    out[name] = value;
  }
  return out;
}
