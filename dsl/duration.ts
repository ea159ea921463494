/** Durations in a plan: milliseconds, or a number with a unit such as '500ms', '30s', '10m', '2h', '1d'. */
export type Duration = number | string;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const FORMAT = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds of a duration, or undefined when it is not one (negative, not finite, unknown unit). */
export function durationMs(value: Duration): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = FORMAT.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

export const DURATION_HINT = "write milliseconds, or a number with ms, s, m, h or d such as '30m'";
