import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening } from './ports';

/** Debian's nats-server (scripts/setup.sh installs it); $KILN_NATS_SERVER overrides. */
export const NATS_SERVER = process.env.KILN_NATS_SERVER ?? '/usr/sbin/nats-server';

export interface TestNats {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The JetStream store directory (kept across `restart`). */
  dir: string;
  /** Stops the server (SIGTERM) and starts it again on the same port and store directory. */
  restart(options?: { downMs?: number }): Promise<void>;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A private nats-server with JetStream on a free loopback port, its store in a temp directory.
 * @example
 * let nats: TestNats;
 * before(async () => { nats = await startNats(); });
 * after(() => nats.stop());
 */
export async function startNats(): Promise<TestNats> {
  if (!existsSync(NATS_SERVER))
    throw new Error(`${NATS_SERVER} not found: install it (apt-get install -y nats-server, or scripts/setup.sh)`);
  const dir = await mkdtemp(join(tmpdir(), 'kiln-nats-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const startServer = async () => {
    output = '';
    const started = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    started.stdout!.on('data', keep);
    started.stderr!.on('data', keep);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (started.exitCode !== null)
        throw new Error(`nats-server exited with ${started.exitCode} on port ${port}:\n${output}`);
      // JetStream is ready once the server logs it; the port alone opens a moment earlier.
      if (/Server is ready/.test(output) && (await listening(port))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    started.kill('SIGKILL');
    throw new Error(`nats-server did not start on port ${port} within 15 s:\n${output}`);
  };

  const stopServer = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((done) => running.once('exit', () => done()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await startServer().catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dir,
    startServer,
    stopServer,
    async restart(options = {}) {
      await stopServer();
      await new Promise((r) => setTimeout(r, options.downMs ?? 0));
      await startServer();
    },
    async stop() {
      await stopServer();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
