import { invalidData } from '../common/failures';

export type Goal = 'max' | 'min';
export interface Objective {
  metric: string;
  goal: Goal;
}

/** A trial's value of the objective; a trial without the metric cannot be ranked, and says which it has. */
export function objectiveValue(
  trial: { index: number; metrics: Record<string, number> },
  objective: Objective,
): number {
  const value = trial.metrics[objective.metric];
  if (value === undefined) {
    throw invalidData(
      `trial ${trial.index} has no metric '${objective.metric}' to ${objective.goal}imize; it has ${Object.keys(trial.metrics).join(', ') || 'none'}`,
      { trial: trial.index, metric: objective.metric },
    );
  }
  return value;
}

/** Trials best first by the objective; equal values keep the lower trial index first. */
export function rank<T extends { index: number; metrics: Record<string, number> }>(
  trials: readonly T[],
  objective: Objective,
): Array<{ trial: T; value: number }> {
  const sign = objective.goal === 'max' ? -1 : 1;
  return trials
    .map((trial) => ({ trial, value: objectiveValue(trial, objective) }))
    .sort((a, b) => sign * (a.value - b.value) || a.trial.index - b.trial.index);
}
