import { implement } from '../library';
import { checkGates } from './steps';
import { enforceGates } from '../common/gates/judge';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const checkGatesImpl = implement(checkGates, async ({ metrics, gates }) => {
  const values = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [snake(k), v]));
  const outcomes = enforceGates(values, gates).map(({ reason: _reason, ...outcome }) => outcome);
  return { outcomes };
});
