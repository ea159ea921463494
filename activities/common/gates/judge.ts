import { FailureTypes } from '../../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { ChampionRule, MetricGate } from './schema';

// A failed gate is a non-retryable ApplicationFailure of type 'GateFailed' whose message names the
// metric, its value and the bar, and whose first detail carries the same numbers for the store and
// the console. Retrying cannot change a metric, so none of these failures is retryable.

export const GATE_FAILED = FailureTypes.GateFailed;
export const GATE_METRIC_MISSING = FailureTypes.GateMetricMissing;
export const GATE_INVALID = FailureTypes.GateInvalid;

export interface GateOutcome {
  metric: string;
  value: number;
  min?: number;
  max?: number;
  passed: boolean;
  /** Why it failed, in the words of the failure message; absent when it passed. */
  reason?: string;
}

export interface GateFailureDetails {
  metric: string;
  value: number;
  bar: number;
  bound: 'min' | 'max';
  /** Every gate that failed, the first of which is described above. */
  failures: Array<{ metric: string; value: number; bar: number; bound: 'min' | 'max'; reason: string }>;
}

export interface ChampionOutcome {
  metric: string;
  challenger: number;
  /** Null when there is no champion yet: the first model passes by default. */
  champion: number | null;
  margin: number;
  higherIsBetter: boolean;
  /** The worst value the challenger may have; null without a champion. */
  bar: number | null;
  passed: boolean;
}

export interface ChampionFailureDetails {
  metric: string;
  value: number;
  bar: number;
  champion: number;
  margin: number;
  higherIsBetter: boolean;
}

/** Prints value and bar with 3 decimals, or more when 3 would print them equal. */
export function formatPair(value: number, bar: number): [string, string] {
  if (!Number.isFinite(value) || !Number.isFinite(bar)) return [String(value), String(bar)];
  for (let digits = 3; digits <= 12; digits++) {
    const a = value.toFixed(digits);
    const b = bar.toFixed(digits);
    if (a !== b || value === bar) return [a, b];
  }
  return [String(value), String(bar)];
}

function lookUp(values: Record<string, number>, metric: string, whose: string): number {
  if (!Object.hasOwn(values, metric)) {
    const available = Object.keys(values).sort();
    throw ApplicationFailure.nonRetryable(
      `no metric '${metric}' in the ${whose} metrics to gate on; reported are ${available.length ? available.join(', ') : 'none'}: gate on one of those or have the evaluation report '${metric}'`,
      GATE_METRIC_MISSING,
      { metric, available, whose },
    );
  }
  const value = values[metric];
  if (typeof value !== 'number') {
    throw ApplicationFailure.nonRetryable(
      `metric '${metric}' in the ${whose} metrics is ${String(value)}, not a number`,
      GATE_METRIC_MISSING,
      { metric, whose },
    );
  }
  return value;
}

function checkDeclaration(gate: MetricGate): void {
  const { metric, min, max } = gate;
  if (min === undefined && max === undefined) {
    throw ApplicationFailure.nonRetryable(
      `gate on '${metric}' declares neither min nor max; declare at least one bar`,
      GATE_INVALID,
      { metric },
    );
  }
  if (
    (min !== undefined && !Number.isFinite(min)) ||
    (max !== undefined && !Number.isFinite(max)) ||
    (min !== undefined && max !== undefined && min > max)
  ) {
    throw ApplicationFailure.nonRetryable(
      `gate on '${metric}' has min ${String(min)} and max ${String(max)}; bars must be finite with min <= max`,
      GATE_INVALID,
      { metric, min, max },
    );
  }
}

function judge(gate: MetricGate, value: number): GateOutcome & { bar?: number; bound?: 'min' | 'max' } {
  const { metric, min, max } = gate;
  const outcome = { metric, value, ...(min !== undefined && { min }), ...(max !== undefined && { max }) };
  if (Number.isNaN(value)) {
    const bound = min !== undefined ? 'min' : 'max';
    const bar = (min ?? max)!;
    const reason = `${metric} is NaN (undefined on this data, e.g. a single class) and cannot meet the gate ${bound === 'min' ? '>=' : '<='} ${bar}`;
    return { ...outcome, passed: false, reason, bar, bound };
  }
  if (min !== undefined && value < min) {
    const [v, b] = formatPair(value, min);
    return { ...outcome, passed: false, reason: `${metric} ${v} is below the gate ${b}`, bar: min, bound: 'min' };
  }
  if (max !== undefined && value > max) {
    const [v, b] = formatPair(value, max);
    return { ...outcome, passed: false, reason: `${metric} ${v} is above the gate ${b}`, bar: max, bound: 'max' };
  }
  return { ...outcome, passed: true };
}

/**
 * Checks every threshold gate (bars inclusive) and returns the outcomes; throws a non-retryable
 * 'GateFailed' naming each failed metric, value and bar, or 'GateMetricMissing' for an unreported metric.
 */
export function enforceGates(values: Record<string, number>, gates: ReadonlyArray<MetricGate>): GateOutcome[] {
  for (const gate of gates) checkDeclaration(gate);
  const judged = gates.map((gate) => judge(gate, lookUp(values, gate.metric, 'reported')));
  const failures = judged.flatMap((o) =>
    o.passed ? [] : [{ metric: o.metric, value: o.value, bar: o.bar!, bound: o.bound!, reason: o.reason! }],
  );
  const first = failures[0];
  if (first) {
    const details: GateFailureDetails = {
      metric: first.metric,
      value: first.value,
      bar: first.bar,
      bound: first.bound,
      failures,
    };
    throw ApplicationFailure.nonRetryable(failures.map((f) => f.reason).join('; '), GATE_FAILED, details);
  }
  return judged.map(({ bar: _bar, bound: _bound, ...outcome }) => outcome);
}

// The bar is champion ± margin, computed in floating point; a challenger within this relative
// distance of the bar has met it (0.74 must pass a bar of 0.76 - 0.02 = 0.7400000000000001).
const BAR_TOLERANCE = 1e-12;

/**
 * Champion/challenger on one holdout: the challenger fails with a non-retryable 'GateFailed' when it is
 * worse than the champion by more than `margin`. A null champion (no production version yet) passes.
 */
export function compareChampion(
  challenger: Record<string, number>,
  champion: Record<string, number> | null,
  rule: Pick<ChampionRule, 'metric' | 'higherIsBetter'> & { margin?: number },
): ChampionOutcome {
  const { metric, higherIsBetter } = rule;
  const margin = rule.margin ?? 0;
  if (!(margin >= 0) || !Number.isFinite(margin)) {
    throw ApplicationFailure.nonRetryable(
      `champion gate on '${metric}' has margin ${margin}; declare a finite margin >= 0`,
      GATE_INVALID,
      { metric, margin },
    );
  }
  const value = lookUp(challenger, metric, 'challenger');
  if (champion === null) {
    return { metric, challenger: value, champion: null, margin, higherIsBetter, bar: null, passed: true };
  }
  const best = lookUp(champion, metric, 'champion');
  if (!Number.isFinite(best)) {
    throw ApplicationFailure.nonRetryable(
      `the champion's ${metric} is ${best}; it cannot set a bar, so re-evaluate the champion on this holdout`,
      GATE_INVALID,
      { metric, champion: best },
    );
  }
  const bar = higherIsBetter ? best - margin : best + margin;
  const slack = BAR_TOLERANCE * Math.max(1, Math.abs(bar));
  const passed = higherIsBetter ? value >= bar - slack : value <= bar + slack;
  if (!passed) {
    const [v, b] = formatPair(value, bar);
    const [c, m] = formatPair(best, margin);
    const message = Number.isNaN(value)
      ? `${metric} is NaN for the challenger and cannot meet the champion bar ${b} (champion ${c}, margin ${m})`
      : `${metric} ${v} is ${higherIsBetter ? 'below' : 'above'} the champion bar ${b} (champion ${c} ${higherIsBetter ? '-' : '+'} margin ${m})`;
    const details: ChampionFailureDetails = { metric, value, bar, champion: best, margin, higherIsBetter };
    throw ApplicationFailure.nonRetryable(message, GATE_FAILED, details);
  }
  return { metric, challenger: value, champion: best, margin, higherIsBetter, bar, passed };
}
