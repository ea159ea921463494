import { readFileSync, rmSync } from 'node:fs';
import { link, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Another live process has the PGlite directory open and does not share it. */
export class StoreLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the store at ${dir} is open in process ${pid}, which does not share it; PGlite allows one process at a time: stop that process, or set DATABASE_URL to a PostgreSQL server to share the store`,
    );
    this.name = 'StoreLockedError';
  }
}

/** A long-lived process (a second worker) found the PGlite directory served by another. */
export class StoreSharedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the store at ${dir} is already served by process ${pid} (kiln dev or kiln worker); a second worker would lose it when that one stops: point every worker at one PostgreSQL server with DATABASE_URL`,
    );
    this.name = 'StoreSharedError';
  }
}

/** The lock file's content: who holds the directory, and where it serves it when it does. */
interface Holder {
  pid: number;
  url?: string;
}

/** Whether process `pid` of this host is running (EPERM: it is, as another user's). */
export const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The holder, or undefined while the file is being written (or unreadable): the caller retries. */
async function holderOf(path: string): Promise<Holder | undefined> {
  const text = (await readFile(path, 'utf8').catch(() => '')).trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Older locks hold a bare pid.
  const holder = typeof parsed === 'number' ? { pid: parsed } : (parsed as Holder);
  return Number.isInteger(holder?.pid) && holder.pid > 0 ? holder : undefined;
}

type PgliteLock =
  | { owner: true; release(): Promise<void>; publish(url: string): Promise<void>; withdraw(): Promise<void> }
  | { owner: false; url: string; pid: number };

/**
 * Moves a dead holder's lock aside atomically and removes it only if it still names that holder:
 * two processes taking over at once must not delete the lock the faster one has just created.
 */
async function takeOverStale(path: string, pid: number): Promise<void> {
  const aside = `${path}.stale.${process.pid}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await holderOf(aside);
  // Not provably the dead holder's (a new owner's, perhaps not written yet): put it back, without
  // overwriting a lock someone took meanwhile.
  if (moved?.pid !== pid) await link(aside, path).catch(() => {});
  await rm(aside, { force: true });
}

/**
 * Takes `<dir>.lock` for this process, or finds the process that holds it. PGlite keeps the
 * database in memory and writes it back to the directory, so two processes on one directory
 * silently lose each other's writes: the holder may serve it over a local socket (`publish`),
 * and then others connect there; a holder that does not serve (a short CLI command) is waited
 * for, up to `waitMs`.
 */
export async function lockPgliteDir(dir: string, options: { waitMs?: number } = {}): Promise<PgliteLock> {
  const path = `${dir}.lock`;
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid }));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await holderOf(path);
      // Between open('wx') and writeFile the file is empty: the holder is about to write itself.
      if (!holder) {
        if (Date.now() > deadline)
          throw new Error(`${path} holds no readable owner; if no Kiln process uses ${dir}, delete the file`);
        await sleep(20);
        continue;
      }
      // This process serving it already (a command inside `kiln dev`) connects like any other.
      if (holder.pid === process.pid) {
        if (holder.url) return { owner: false, url: holder.url, pid: holder.pid };
        throw new StoreLockedError(dir, holder.pid);
      }
      if (!processAlive(holder.pid)) {
        await takeOverStale(path, holder.pid);
        continue;
      }
      if (holder.url) return { owner: false, url: holder.url, pid: holder.pid };
      if (Date.now() > deadline) throw new StoreLockedError(dir, holder.pid);
      await sleep(100);
    }
  }
  const mine = () => holderOf(path).then((h) => h?.pid === process.pid);
  // Through a rename, so a reader never sees half a file.
  const rewrite = async (holder: Holder) => {
    if (!(await mine())) return;
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(holder), { mode: 0o600 });
    await rename(tmp, path);
  };
  const releaseOnExit = () => {
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as Holder).pid === process.pid) rmSync(path, { force: true });
    } catch {
      /* already gone */
    }
  };
  process.once('exit', releaseOnExit);
  return {
    owner: true,
    publish: (url) => rewrite({ pid: process.pid, url }),
    withdraw: () => rewrite({ pid: process.pid }),
    async release() {
      process.removeListener('exit', releaseOnExit);
      if (await mine()) await rm(path, { force: true });
    },
  };
}
