import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';

// How a PostgreSQL driver error becomes a step's failure: typed by whether a retry can help, and
// naming no secret. Shared by the steps that read (data.readPostgres) and write (model.scoreRegistered).

/** A query the server rejects: bad SQL, a missing table, a denied permission. Retrying cannot help. */
export const INVALID_QUERY = FailureTypes.InvalidQuery;
/** The server refused the connection's credentials or database. Retrying cannot help. */
const DATABASE_ACCESS_DENIED = 'DatabaseAccessDenied';
/** The server could not be reached or dropped the work; retried by policy. */
export const DATABASE_UNAVAILABLE = FailureTypes.DatabaseUnavailable;

/** Replaces every copy of the URL, its password and PGPASSWORD in a text, in case a driver message echoes one. */
export function scrubber(url: string | undefined): (text: string) => string {
  const secrets = [url ?? '', process.env.PGPASSWORD ?? ''];
  try {
    const password = url === undefined ? '' : new URL(url).password;
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // Not a URL: only the whole string can be recognised.
  }
  const ordered = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text) => ordered.reduce((out, secret) => out.split(secret).join('***'), text);
}

interface PgError extends Error {
  code?: string;
  position?: string;
  detail?: string;
  hint?: string;
}

/** SQLSTATE classes that a later attempt may not meet: connection, rollback, resources, operator, system. */
const RETRYABLE = /^(08|40|53|57|58|XX)/;
const ACCESS = /^(28|3D)/;

/** A driver error as a failure that names no secret, typed by whether a retry can help. */
export function failure(error: unknown, where: string, scrub: (text: string) => string, queryOffset: number): Error {
  if (error instanceof ApplicationFailure) return error;
  const e = error as PgError;
  const message = scrub(e.message ?? String(error));
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const extra = [
      e.position ? `at character ${Math.max(1, Number(e.position) - queryOffset)} of the query` : '',
      e.detail ? `detail: ${scrub(e.detail)}` : '',
      e.hint ? `hint: ${scrub(e.hint)}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    const text = `${where}: ${message} (SQLSTATE ${code}${extra ? `; ${extra}` : ''})`;
    if (RETRYABLE.test(code)) return ApplicationFailure.retryable(text, DATABASE_UNAVAILABLE, { code });
    return ApplicationFailure.nonRetryable(text, ACCESS.test(code) ? DATABASE_ACCESS_DENIED : INVALID_QUERY, { code });
  }
  // Network and protocol errors (ECONNREFUSED, timeouts, a dropped socket): the next attempt may succeed.
  return ApplicationFailure.retryable(`${where}: ${message}`, DATABASE_UNAVAILABLE, { code: code ?? null });
}
