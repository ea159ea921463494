import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Worker processes (test/fixtures/worker-process.ts) a fault test may SIGKILL; `killAll` in `after`. */
export function workerProcesses(options: { address: () => string; taskQueue: string; artifactsDir: string }) {
  const children: ChildProcess[] = [];
  return {
    /** Starts one, recording in the store at `databaseUrl` when given; resolves once it polls. */
    start(databaseUrl?: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
      const args = [options.address(), options.taskQueue, options.artifactsDir, ...(databaseUrl ? [databaseUrl] : [])];
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, '../fixtures/worker-process.ts'), ...args],
        { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      return new Promise((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('ready')) resolve(child);
        });
        child.once('exit', (code, signal) => reject(new Error(`worker exited early with ${code ?? signal}`)));
      });
    },
    /** SIGKILL: no shutdown, no goodbye to Temporal or the store; resolves once it has exited. */
    async kill(child: ChildProcess): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async killAll(): Promise<void> {
      await Promise.all(children.map((c) => this.kill(c)));
    },
  };
}

/** The process id in a worker identity (`pid@host`), as Temporal reports it for a running activity. */
export const pidOf = (identity: string | null | undefined) => Number(identity?.split('@')[0]);

/** Polls `probe` every 100 ms until it returns a value other than undefined; fails naming `what` after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
