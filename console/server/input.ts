import type { RunCursor } from '../../store';
import { ApiInputError } from './errors';

/** A whole number from 1 to `max` in a query string, or `fallback` when absent; the message names the parameter. */
export function positiveInt(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new ApiInputError(`query parameter '${name}' must be a whole number from 1 to ${max}, not '${text}'`);
  return n;
}

/** The opaque `next`/`before` of the run list: the last run's start time and id. */
export const encodeRunCursor = (c: RunCursor) =>
  Buffer.from(JSON.stringify([c.startedAt.toISOString(), c.runId])).toString('base64url');

export function decodeRunCursor(text: string): RunCursor {
  try {
    const [at, runId] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const startedAt = new Date(String(at));
    if (typeof at === 'string' && typeof runId === 'string' && !Number.isNaN(startedAt.getTime()))
      return { startedAt, runId };
  } catch {
    // Not base64url JSON: refused below with the parameter named.
  }
  throw new ApiInputError(`query parameter 'before' is not a cursor this server gave out (use the 'next' of a page)`);
}

/** `24h`, `30m`, `7d` as milliseconds. */
export function durationParam(name: string, text: string): number {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text);
  if (!m) throw new ApiInputError(`query parameter '${name}' must be a duration such as 30m, 24h or 7d, not '${text}'`);
  return Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/**
 * The schema of a route's text parameters (path or query), each with its longest length: a
 * repeated query parameter (which arrives as an array) or an overlong one is a 400 naming it.
 */
export const textParams = (lengths: Record<string, number>, required: string[] = []) => ({
  type: 'object',
  required,
  properties: Object.fromEntries(
    Object.entries(lengths).map(([key, maxLength]) => [
      key,
      { type: 'string', minLength: required.includes(key) ? 1 : 0, maxLength },
    ]),
  ),
});
