import { execFile, spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';

/** The Temporal dev server could not be found, started, or reached. */
export class TemporalServerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporalServerError';
  }
}

export interface DevServerOptions {
  /** SQLite file for the server's state; `':memory:'` keeps it in memory. Default `.kiln/temporal.db`. */
  dbFile?: string;
  /** Front-end gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. Ignored when `headless`. */
  uiPort?: number;
  headless?: boolean;
  /** A namespace created at launch besides `default`, and the one readiness waits for. */
  namespace?: string;
  ip?: string;
  /** How long to wait for the gRPC endpoint to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /** Receives the server's own output (warnings and errors at the default log level). */
  onOutput?: (chunk: string) => void;
  /**
   * File the server's output is appended to instead (mode 600). Default: `temporal.log` beside a
   * `dbFile` when no `onOutput` is given. With a file the server outlives this process, whatever
   * kills it: a pipe would break when it dies and take the server down with it.
   */
  logFile?: string;
}

export interface DevServer {
  /** `host:port` of the gRPC front end, what `Connection.connect({ address })` takes. */
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const ensureScript = resolve(dirname(fileURLToPath(import.meta.url)), '../scripts/ensure-temporal.sh');
let cliPath: Promise<string> | undefined;

/**
 * Path of a Temporal CLI binary: `$TEMPORAL_CLI`, `temporal` on PATH, `.tools/bin`, the
 * machine cache, else a build from the Go module proxy (minutes; progress on stderr).
 */
export function findTemporalCli(): Promise<string> {
  cliPath ??= new Promise<string>((resolvePath, reject) => {
    const child = execFile('bash', [ensureScript], { maxBuffer: 1 << 20 }, (error, stdout) => {
      const path = stdout.trim().split('\n').pop();
      if (error || !path) {
        reject(
          new TemporalServerError(`no usable Temporal CLI: ${ensureScript} failed (its messages are above)`, {
            cause: error,
          }),
        );
      } else {
        resolvePath(path);
      }
    });
    child.stderr?.pipe(process.stderr);
  });
  cliPath.catch(() => {
    cliPath = undefined;
  });
  return cliPath;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

/** True when a Temporal front end answers at `address` within `timeoutMs`. */
export async function isServerUp(address: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await probe(address, timeoutMs);
    return true;
  } catch {
    // Unreachable is the answer this function exists to give, not an error.
    return false;
  }
}

// Connection.connect leaves its channel open when the first call fails, which keeps the
// process alive; a lazy connection can always be closed.
async function probe(address: string, timeoutMs: number, namespace?: string): Promise<void> {
  const connection = Connection.lazy({ address, connectTimeout: timeoutMs });
  try {
    await connection.ensureConnected();
    if (namespace) await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Dynamic config for a dev server that dispatches tasks as they come. History reads its transfer
 * queue (every activity and workflow task on its way to matching) at most
 * `history.transferProcessorMaxPollRPS` times a second per shard, 20 by default with a burst of 20
 * (temporal server v1.29 common/dynamicconfig/constants.go, service/history/queues/reader.go
 * loadAndSubmitTasks): once the burst is spent each task waits up to 50 ms, two per chain step.
 * The reader still reads only when notified of new tasks, so a higher limit costs nothing idle.
 * Eager activities go back to the worker in the workflow task's completion, skipping matching.
 */
const devServerDynamicConfig: [string, unknown][] = [
  ['history.transferProcessorMaxPollRPS', 10_000],
  ['system.enableActivityEagerExecution', true],
];

/** The last 4000 bytes a log file gained after offset `from`. */
function logTail(file: string, from: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - 4000);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      return buffer.toString();
    } finally {
      closeSync(fd);
    }
  } catch {
    // The log is a courtesy in an error message; the error itself says what failed.
    return '';
  }
}

/**
 * Start `temporal server start-dev` and resolve once its gRPC front end answers and the
 * namespace exists.
 * @example
 * const server = await startDevServer({ headless: true, dbFile: ':memory:' });
 * const connection = await Connection.connect({ address: server.address });
 * await server.stop();
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await findTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const namespace = options.namespace ?? 'default';
  const headless = options.headless ?? false;
  const port = options.port ?? (await freePort());
  const uiPort = headless ? undefined : (options.uiPort ?? (await freePort()));
  const dbFile = options.dbFile ?? '.kiln/temporal.db';

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...devServerDynamicConfig.flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
  ];
  if (dbFile !== ':memory:') {
    const path = resolve(dbFile);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    args.push('--db-filename', path);
  }
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));

  const logFile =
    options.logFile ??
    (dbFile !== ':memory:' && !options.onOutput ? join(dirname(resolve(dbFile)), 'temporal.log') : undefined);
  let tail = '';
  let output = () => tail;
  let child;
  if (logFile) {
    await mkdir(dirname(resolve(logFile)), { recursive: true, mode: 0o700 });
    const fd = openSync(logFile, 'a', 0o600);
    const from = fstatSync(fd).size;
    try {
      child = spawn(cli, args, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    output = () => logTail(logFile, from);
  } else {
    child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-4000);
      options.onOutput?.(text);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
  }

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // 'close' rather than 'exit': the last of its output has been read by then.
  const exited = new Promise<void>((done) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      done();
    });
  });
  const spawned = new Promise<void>((ok, fail) => {
    child.once('spawn', ok);
    child.once('error', fail);
  });
  // A test or command that dies without stop() must not leave a server holding its ports.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!exit) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };

  const address = `${ip}:${port}`;
  const described = (why: string) =>
    `Temporal dev server (${cli} ${args.join(' ')}) ${why}` +
    (output().trim() ? `; its output ended with:\n${output().trim()}` : '');
  try {
    await spawned;
  } catch (cause) {
    process.removeListener('exit', killOnExit);
    throw new TemporalServerError(described('could not be spawned'), { cause });
  }

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let lastError: unknown;
  for (;;) {
    if (exit) {
      process.removeListener('exit', killOnExit);
      throw new TemporalServerError(described(`exited early with ${exit.signal ?? `code ${exit.code}`}`));
    }
    if (Date.now() > deadline) {
      await stop();
      throw new TemporalServerError(
        described(`did not answer at ${address} within ${options.readyTimeoutMs ?? 60_000} ms`),
        {
          cause: lastError,
        },
      );
    }
    try {
      await probe(address, 1000, namespace);
      break;
    } catch (error) {
      lastError = error;
      await Promise.race([sleep(200), exited]);
    }
  }
  // The server made its SQLite files with the default umask; they hold every run's history.
  if (dbFile !== ':memory:') {
    for (const file of ['', '-wal', '-shm'].map((suffix) => `${resolve(dbFile)}${suffix}`))
      await chmod(file, 0o600).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
  }

  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://${ip}:${uiPort}`,
    pid: child.pid ?? -1,
    stop,
  };
}
