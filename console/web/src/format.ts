import type { NodeState, RunState } from '../../api';

/** Colours of node and run states, one per state: a new state fails to compile until it has one. */
export const nodeTone: Record<NodeState, string> = {
  pending: '#9aa5b1',
  running: '#2f80ed',
  waiting: '#f2994a',
  succeeded: '#27ae60',
  failed: '#eb5757',
  skipped: '#bdbdbd',
  cancelled: '#828282',
};

export const runTone: Record<RunState, string> = {
  running: nodeTone.running,
  succeeded: nodeTone.succeeded,
  failed: nodeTone.failed,
  cancelled: nodeTone.cancelled,
  terminated: '#9b51e0',
  timed_out: '#b0522a',
};

/** `1.2 s`, `3 min 4 s`, `2 h 5 min`. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A local date and time to the second, or '' for none. */
export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '';
}

/** A metric to 4 significant digits; other values as compact JSON. */
export function value(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** The first 12 hex digits of a hash, for display (the whole one in the title). */
export const short = (hash: string) => hash.slice(0, 12);
