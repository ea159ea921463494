import type { MetricGate } from './schema';
import { enforceGates } from './judge';

/**
 * Judges a step's own gates on its exact metric values (NaN included, which no bar meets); throws
 * the non-retryable GateFailed naming metric, value and bar. Outcomes carry NaN as null, as JSON would.
 */
export function judgeStepGates(values: Record<string, number>, gates: readonly MetricGate[]) {
  if (gates.length === 0) return [];
  return enforceGates(values, gates).map(({ reason: _reason, value, ...outcome }) => ({
    ...outcome,
    value: Number.isNaN(value) ? null : value,
  }));
}

/** A metric value a step's output can carry: 0/0 becomes 0, and its name is listed as undefined. */
export function definedOrZero(values: Record<string, number>): {
  values: Record<string, number>;
  undefinedMetrics: string[];
} {
  const undefinedMetrics = Object.keys(values).filter((k) => !Number.isFinite(values[k]));
  return {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : 0])),
    undefinedMetrics,
  };
}
