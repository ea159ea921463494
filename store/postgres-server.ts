import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A throwaway PostgreSQL server could not be found, initialised or started. */
export class PostgresServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostgresServerError';
  }
}

export interface PostgresServerOptions {
  /** Keeps the cluster here across runs; default a temporary directory removed by `stop`. */
  dir?: string;
  /** Default a free port on 127.0.0.1. */
  port?: number;
  /** Database created for the caller; default `kiln`. */
  database?: string;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/DATABASE`, superuser, trust authentication. */
  url: string;
  port: number;
  dir: string;
  /** Fast shutdown (SIGINT, SIGKILL after 10 s), then removes a temporary dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The directory holding `initdb` and `postgres`: `$KILN_PG_BIN`, the newest Debian install, or PATH. */
export function findPostgresBin(): string {
  const candidates: string[] = [];
  if (process.env.KILN_PG_BIN) candidates.push(process.env.KILN_PG_BIN);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (!found) {
    throw new PostgresServerError(
      'PostgreSQL server binaries (initdb, postgres) not found in $KILN_PG_BIN, /usr/lib/postgresql/*/bin or PATH; ' +
        'install them with `apt-get install -y postgresql` or point KILN_PG_BIN at their directory',
    );
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no probe port')),
      );
    });
  });
}

// initdb and postgres refuse to run as root, so as root they run as the `postgres` user.
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch (cause) {
    throw new PostgresServerError(
      'running as root, but there is no `postgres` user to run PostgreSQL as (apt-get install postgresql creates it)',
      { cause },
    );
  }
}

interface Started {
  child: ChildProcess;
  exited: Promise<void>;
}

// The server runs as a child (not daemonised by pg_ctl) so that Ctrl-C at a terminal and
// the process-exit hook reach it: a crashed test must not leave a postmaster behind.
async function startServer(
  bin: string,
  data: string,
  socketDir: string,
  port: number,
  throwaway: boolean,
  user: { uid: number; gid: number } | undefined,
): Promise<Started> {
  const args = ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', socketDir];
  if (throwaway) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawn(join(bin, 'postgres'), args, { cwd: socketDir, stdio: ['ignore', 'pipe', 'pipe'], ...user });
  let tail = '';
  let ready!: () => void;
  const readyPromise = new Promise<void>((r) => (ready = r));
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
    if (tail.includes('database system is ready to accept connections')) ready();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exit: string | undefined;
  // 'close' rather than 'exit': the last of its log has been read, and no backend holds the pipes.
  const exited = new Promise<void>((done) => {
    child.once('close', (code, signal) => {
      exit = signal ?? `code ${code}`;
      done();
    });
    child.once('error', (error) => {
      exit = error.message;
      done();
    });
  });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref());
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    timeout,
  ]);
  if (outcome === 'ready') {
    // Past readiness nobody reads the log; keep draining the pipes so the server never blocks on them.
    return { child, exited };
  }
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
  const why = outcome === 'timeout' ? 'did not become ready within 60 s' : `exited early with ${exit}`;
  throw new PostgresServerError(
    `PostgreSQL (${join(bin, 'postgres')} ${args.join(' ')}) ${why}; its output ended with:\n${tail.trim()}`,
  );
}

/**
 * Start a real PostgreSQL server on 127.0.0.1 for tests and development, with a database
 * created for the caller.
 * @example
 * const pg = await startPostgres();
 * const client = new pg.Client({ connectionString: pg.url });
 * await pg.stop();
 */
export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const user = await serverUser();
  const throwaway = options.dir === undefined;
  const dir = throwaway ? await mkdtemp(join(tmpdir(), 'kiln-pg-')) : resolve(options.dir!);
  const data = join(dir, 'data');
  const database = options.database ?? 'kiln';

  let started: Started | undefined;
  let port = options.port ?? 0;
  try {
    await mkdir(dir, { recursive: true });
    if (user) await chown(dir, user.uid, user.gid);
    if (!existsSync(join(data, 'PG_VERSION'))) {
      await run(
        join(bin, 'initdb'),
        ['-D', data, '-U', 'postgres', '--auth=trust', '--locale=C', '-E', 'UTF8', '--no-sync'],
        { cwd: dir, ...user },
      ).catch((cause: Error & { stderr?: string }) => {
        const hint = user
          ? ` (it runs as the postgres user, who must be able to enter every parent directory of ${dir})`
          : '';
        throw new PostgresServerError(`initdb in ${data} failed${hint}: ${cause.stderr?.trim() || cause.message}`, {
          cause,
        });
      });
    }
    // A free port can be taken between the probe and the bind: try a few when we chose it.
    for (let attempt = 1; !started; attempt++) {
      if (!options.port) port = await freePort();
      try {
        started = await startServer(bin, data, dir, port, throwaway, user);
      } catch (error) {
        const taken = error instanceof PostgresServerError && /could not bind|already in use/i.test(error.message);
        if (options.port || !taken || attempt >= 3) throw error;
      }
    }
    await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]).catch(
      (cause: Error & { stderr?: string }) => {
        if (!cause.stderr?.includes('already exists')) {
          throw new PostgresServerError(`createdb ${database} failed: ${cause.stderr?.trim() || cause.message}`, {
            cause,
          });
        }
      },
    );
  } catch (error) {
    if (started) {
      started.child.kill('SIGKILL');
      await started.exited;
    }
    if (throwaway) await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const { child, exited } = started;
  const killOnExit = () => {
    child.kill('SIGKILL');
    if (throwaway) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    port,
    dir,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGINT');
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        process.removeListener('exit', killOnExit);
        if (throwaway) await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
