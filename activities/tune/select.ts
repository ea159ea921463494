import { implement } from '../library';
import { rank } from './ranking';
import { selectTrial } from './steps';

export const selectTrialImpl = implement(selectTrial, async ({ trials, objective }) => {
  const ranked = rank(trials, objective);
  return {
    best: ranked[0]!.trial,
    ranking: ranked.map(({ trial, value }) => ({ index: trial.index, value, params: trial.params })),
  };
});
