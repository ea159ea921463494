import { createHmac, randomBytes } from 'node:crypto';

// The one keyed hash of sensitive values, shared by the prediction log and the steps that must
// name a sensitive value (quality reports): equal values hash equal under one key, so a reader
// can tell values apart and match them against the log, but cannot read them back.

let processKey: string | undefined;

/** $KILN_LOG_HASH_KEY, else a random key for this process's life (values stay hidden; hashes compare only within it). */
export const defaultHashKey = (): string =>
  process.env.KILN_LOG_HASH_KEY ?? (processKey ??= randomBytes(32).toString('hex'));

/** `hmac-sha256:` and 32 hex digits of the value's HMAC under `key`; null stays null (a missing value is no secret). */
export function keyedHash(key: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `hmac-sha256:${createHmac('sha256', key).update(text).digest('hex').slice(0, 32)}`;
}

/** A value as logs and reports may show it: a keyed hash, under $KILN_LOG_HASH_KEY (or the process's key). */
export const hashForReport = (value: unknown): string | null => keyedHash(defaultHashKey(), value);
