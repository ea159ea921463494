import { implement } from '../library';
import { checkGates } from './gate-steps';
import { checkGates as check } from './gates';

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const checkGatesImpl = implement(checkGates, async ({ metrics, gates }) => {
  const values = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [snake(k), v]));
  const outcomes = check(values, gates).map(({ reason: _reason, ...outcome }) => outcome);
  return { outcomes };
});
