import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { EdgeExportError } from './errors';

const inside = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** The nearest folder on the way to `path` that exists (path itself when it does). */
async function nearestExisting(path: string): Promise<string> {
  for (let at = path; ; at = dirname(at)) {
    try {
      await lstat(at);
      return at;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(at) === at) throw error;
    }
  }
}

/**
 * Refuses an output path that is a symbolic link, an existing file or non-empty folder, or one
 * written inside the working directory that a symbolic link on the way leads out of it.
 */
async function checkTarget(out: string, target: string, cwd: string): Promise<void> {
  const stat = await lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stat?.isSymbolicLink())
    throw new EdgeExportError(
      `--out ${out} is a symbolic link (to ${await readlink(target)}); give the path of a new or empty directory`,
    );
  if (stat && !stat.isDirectory()) throw new EdgeExportError(`--out ${out} exists and is not a directory`);
  if (stat) {
    const entries = await readdir(target);
    if (entries.length > 0)
      throw new EdgeExportError(
        `--out ${out} is not empty (${entries.length} entries, e.g. ${entries[0]}); a bundle goes into a new or empty directory, so remove it or choose another`,
      );
  }
  if (inside(cwd, target)) {
    const existing = await nearestExisting(target);
    const [real, realCwd] = await Promise.all([realpath(existing), realpath(cwd)]);
    if (!inside(realCwd, real))
      throw new EdgeExportError(
        `--out ${out} leads out of the working directory through a symbolic link (${relative(cwd, existing) || existing} is ${real}); give that real path if it is meant`,
      );
  }
}

/**
 * Writes a folder whole or not at all: `write` fills a fresh private folder beside `out`, which is
 * then renamed to `out` (replacing it only when it is an empty folder). Returns the absolute path.
 */
export async function writeWholeFolder(
  out: string,
  write: (dir: string) => Promise<void>,
  cwd = process.cwd(),
): Promise<string> {
  const target = resolve(cwd, out);
  await checkTarget(out, target, cwd);
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(resolve(dirname(target), `.${basename(target)}.partial-`));
  try {
    await write(staging);
    await chmod(staging, 0o755);
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw new EdgeExportError(`--out ${out} was filled by something else while the bundle was written`, {
        cause: error,
      });
    throw error;
  }
  return target;
}
