import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { invalidData } from './failures';

// Where a step may connect to PostgreSQL (data.readPostgres reads, model.scoreRegistered writes a
// table). The worker's PGPASSWORD and pgpass file go with every connection, so a step's url may
// name only hosts the worker's operator listed; and no target, however configured, may be Kiln's
// own store (its PostgreSQL database or the PGlite socket).

/** The worker's variable listing the hosts a step's url may name (comma-separated `host` or `host:port`). */
export const SOURCE_HOSTS = 'KILN_SOURCE_HOSTS';

/** Where a client will connect: a host name, an IP address or a Unix socket folder; a port; a database. */
export interface Target {
  host: string;
  port: number;
  database: string;
}

/** URL parameters a step's url may carry; node-postgres reads others (host, sslkey, options) as overrides. */
const SAFE_PARAMS = new Set(['sslmode', 'application_name']);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);
const sameHost = (a: string, b: string) =>
  a.toLowerCase() === b.toLowerCase() || (LOOPBACK.has(a.toLowerCase()) && LOOPBACK.has(b.toLowerCase()));

const canonical = (path: string) => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};
const within = (folder: string, path: string) => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

const refuse = (message: string, target: Target) =>
  ApplicationFailure.nonRetryable(message, FailureTypes.InvalidInput, { host: target.host, port: target.port });

/** The host, port, database and user a URL names; undefined parts when it names none. */
function urlTarget(url: string): { host?: string; port?: number; database?: string; user?: string } {
  try {
    const u = new URL(url);
    return {
      ...(u.hostname ? { host: decodeURIComponent(u.hostname) } : {}),
      ...(u.port ? { port: Number(u.port) } : {}),
      ...(u.pathname.length > 1 ? { database: decodeURIComponent(u.pathname.slice(1)) } : {}),
      ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    };
  } catch {
    return {};
  }
}

/** One KILN_SOURCE_HOSTS entry: `host`, `host:port`, `[v6]:port`, or a socket folder (an absolute path). */
function parseHost(entry: string): { host: string; port?: number } {
  const m = /^(?:\[(.+)\]|([^:]+))(?::(\d+))?$/.exec(entry);
  if (entry.startsWith('/') || !m) return { host: entry };
  return { host: m[1] ?? m[2]!, ...(m[3] ? { port: Number(m[3]) } : {}) };
}

/** The allowed hosts: KILN_SOURCE_HOSTS, plus the host KILN_SOURCE_DATABASE_URL names. */
export function allowedHosts(env: NodeJS.ProcessEnv = process.env): Array<{ host: string; port?: number }> {
  const listed = (env[SOURCE_HOSTS] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map(parseHost);
  const source = env.KILN_SOURCE_DATABASE_URL ? urlTarget(env.KILN_SOURCE_DATABASE_URL) : {};
  return source.host ? [...listed, { host: source.host, ...(source.port ? { port: source.port } : {}) }] : listed;
}

/**
 * Refuses a step's url (`field` names the input) that is not a URL, holds a password (step inputs
 * are recorded in the run's history), or carries parameters node-postgres would act on (host
 * overrides, key files it reads at once); checked before a client is made from it.
 */
export function checkStepUrl(url: string, field = 'the url input'): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidData(`${field} is not a valid postgres://user@host:port/database URL`);
  }
  if (parsed.password)
    throw invalidData(
      `${field} holds a password, and step inputs are recorded in the run's history; ` +
        "remove it and give the password through the worker's PGPASSWORD or pgpass file (or put the whole URL in its KILN_SOURCE_DATABASE_URL)",
    );
  const params = [...parsed.searchParams.keys()].filter((key) => !SAFE_PARAMS.has(key));
  if (params.length > 0)
    throw ApplicationFailure.nonRetryable(
      `${field} sets ${params.map((p) => `'${p}'`).join(', ')}; a step's url may set only ${[...SAFE_PARAMS].join(', ')}`,
      FailureTypes.InvalidInput,
      { params },
    );
}

/** Refuses a host the worker's operator did not list in KILN_SOURCE_HOSTS (or KILN_SOURCE_DATABASE_URL). */
export function checkAllowedHost(target: Target, env: NodeJS.ProcessEnv = process.env): void {
  const allowed = allowedHosts(env);
  const ok = allowed.some(
    (a) => a.host.toLowerCase() === target.host.toLowerCase() && (a.port === undefined || a.port === target.port),
  );
  if (!ok)
    throw refuse(
      `${target.host}:${target.port} is not a source host this worker allows (${allowed.map((a) => (a.port ? `${a.host}:${a.port}` : a.host)).join(', ') || 'none'}); ` +
        `list it in the worker's ${SOURCE_HOSTS} (comma-separated host or host:port)`,
      target,
    );
}

/** Refuses Kiln's own store: DATABASE_URL's database, and a PGlite socket folder under KILN_HOME or in the temp folder. */
export function checkNotStore(target: Target, env: NodeJS.ProcessEnv = process.env): void {
  const why = "is Kiln's own store (principals, tokens, audit); a pipeline never reads it";
  if (target.host.startsWith('/')) {
    const folder = canonical(target.host);
    const home = canonical(resolve(env.KILN_HOME ?? '.kiln'));
    // The PGlite server's socket folder: `<dir>.sock` under KILN_HOME, or `kiln-db-*` in the temp folder.
    const pglite =
      within(home, folder) || (dirname(folder) === canonical(tmpdir()) && basename(folder).startsWith('kiln-db-'));
    if (pglite) throw refuse(`the socket folder ${target.host} ${why}`, target);
  }
  if (env.DATABASE_URL) {
    const store = urlTarget(env.DATABASE_URL);
    const storePort = store.port ?? 5432;
    const storeHost = store.host ?? 'localhost';
    // Without a database in the URL, PostgreSQL picks the one named like the user.
    const storeDatabase = store.database ?? store.user ?? '';
    if (sameHost(storeHost, target.host) && storePort === target.port && storeDatabase === target.database)
      throw refuse(`${target.host}:${target.port}/${target.database} ${why}`, target);
  }
}
