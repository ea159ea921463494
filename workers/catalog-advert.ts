import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { processAlive } from '../store/pglite-lock';

// Workers on this machine advertise the steps they run in KILN_HOME/workers/<identity>.json, so
// that `kiln run` can refuse a plan no running worker can finish before starting it. Temporal
// says which workers are running (the pollers of a task queue, by identity); this file says
// what each of them can run.

const advert = z.object({
  identity: z.string(),
  taskQueue: z.string(),
  steps: z.array(z.string()),
  updatedAt: z.string(),
});
export type CatalogAdvert = z.infer<typeof advert>;

/** The identity a worker polls Temporal with: Temporal's own default form, fixed so adverts can name it. */
export const workerIdentity = () => `${process.pid}@${hostname()}`;

const dirOf = (home: string) => join(home, 'workers');
// An identity holds '@' and a host name; anything else is replaced, so it stays one file name.
const fileOf = (home: string, identity: string) =>
  join(dirOf(home), `${identity.replace(/[^A-Za-z0-9@._-]/g, '_')}.json`);

/** Removes the adverts of workers of this host that are gone without withdrawing theirs (killed). */
async function removeDead(home: string): Promise<void> {
  const suffix = `@${hostname()}`;
  for (const [identity] of await advertisedCatalogs(home)) {
    const pid = Number(identity.slice(0, identity.indexOf('@')));
    if (identity.endsWith(suffix) && Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid))
      await rm(fileOf(home, identity), { force: true });
  }
}

/** Writes (or rewrites, after a reload) this worker's catalog. */
export async function advertiseCatalog(
  home: string,
  entry: Omit<CatalogAdvert, 'updatedAt'>,
): Promise<{ withdraw(): Promise<void> }> {
  await mkdir(dirOf(home), { recursive: true, mode: 0o700 });
  await removeDead(home);
  const file = fileOf(home, entry.identity);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ ...entry, updatedAt: new Date().toISOString() }), { mode: 0o600 });
  await rename(tmp, file);
  return { withdraw: () => rm(file, { force: true }) };
}

/** The catalogs advertised on this machine (for one task queue, when given), by worker identity. */
export async function advertisedCatalogs(home: string, taskQueue?: string): Promise<Map<string, string[]>> {
  // No folder yet: no worker has advertised. Any other error (a folder this user cannot read) is
  // reported, not taken to mean that no worker provides the steps.
  const names = await readdir(dirOf(home)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw new Error(`cannot read the worker adverts in ${dirOf(home)}: ${error.message}`, { cause: error });
  });
  const found = new Map<string, string[]>();
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    // A file being replaced, or not an advert at all, is no catalog: skip it rather than fail a run.
    const parsed = advert.safeParse(
      await readFile(join(dirOf(home), name), 'utf8')
        .then((text) => JSON.parse(text) as unknown)
        .catch(() => undefined),
    );
    if (parsed.success && (taskQueue === undefined || parsed.data.taskQueue === taskQueue))
      found.set(parsed.data.identity, parsed.data.steps);
  }
  return found;
}
