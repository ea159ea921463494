import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';

/** Another live process has the PGlite directory open. */
export class StoreLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`the store at ${dir} is open in process ${pid}; PGlite allows one process at a time: stop that process, or set DATABASE_URL to a PostgreSQL server to share the store`);
    this.name = 'StoreLockedError';
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes `<dir>.lock` for this process. PGlite keeps the database in memory and writes it back
 * to the directory, so two processes on one directory silently lose each other's writes.
 */
export async function lockPgliteDir(dir: string): Promise<() => Promise<void>> {
  const path = `${dir}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && alive(pid)) throw new StoreLockedError(dir, pid);
      if (pid === process.pid) throw new StoreLockedError(dir, pid);
      await rm(path, { force: true });
    }
  }
  const releaseOnExit = () => {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
  };
  process.once('exit', releaseOnExit);
  return async () => {
    process.removeListener('exit', releaseOnExit);
    await rm(path, { force: true });
  };
}
