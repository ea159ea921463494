import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { delimiter, isAbsolute, relative, resolve, sep } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';

/** Where a worker's steps may read files: the declared roots, minus Kiln's own files. */
export interface DataRoots {
  /** Canonical folders a step may read below (KILN_DATA_ROOTS, else the working directory). */
  roots: string[];
  /** The same folders as written (absolute), for the lexical check before anything is touched. */
  named: string[];
  /** Canonical folders never readable, even inside a root: KILN_HOME (store, token) and the artifacts. */
  refused: string[];
}

/** A path as the file system resolves it (symlinks followed); the lexical path when it does not exist. */
const canonical = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    // A root or home that does not exist yet still bounds paths lexically.
    return resolve(path);
  }
};

/** The data roots from the environment: KILN_DATA_ROOTS (colon-separated), else the working directory. */
export function dataRootsFrom(env: NodeJS.ProcessEnv = process.env): DataRoots {
  const listed = (env.KILN_DATA_ROOTS ?? '').split(delimiter).filter((p) => p.trim() !== '');
  const named = (listed.length > 0 ? listed : [process.cwd()]).map((p) => resolve(p));
  const home = resolve(env.KILN_HOME ?? '.kiln');
  const own = [home, resolve(env.KILN_ARTIFACTS ?? resolve(home, 'artifacts'))];
  return { roots: named.map(canonical), named, refused: [...own, ...own.map(canonical)] };
}

const within = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const refuse = (path: string, why: string, roots: DataRoots): ApplicationFailure =>
  ApplicationFailure.nonRetryable(
    `${path} ${why}; steps read files only below the data roots ${roots.roots.join(', ')} (set KILN_DATA_ROOTS on the worker, colon-separated) and never below KILN_HOME or the artifacts`,
    FailureTypes.InvalidInput,
    { path, roots: roots.roots },
  );

/**
 * The canonical path of `path` (relative to the working directory, symlinks resolved) when it
 * lies below a data root and outside Kiln's own files; otherwise a non-retryable InvalidInput
 * failure naming the path and the roots. Nothing of the file is read here.
 */
export async function confinedPath(path: string, roots: DataRoots = dataRootsFrom()): Promise<string> {
  const absolute = resolve(path);
  // Checked lexically first, so a path outside every root is refused without touching it:
  // whether it exists is not revealed.
  if (![...roots.named, ...roots.roots].some((root) => within(root, absolute)))
    throw refuse(absolute, 'is outside the data roots', roots);
  if (roots.refused.some((folder) => within(folder, absolute)))
    throw refuse(absolute, "is one of Kiln's own files", roots);
  const real = await realpath(absolute).catch((error: NodeJS.ErrnoException) => {
    // A path that does not exist yet is returned as it is; the reader reports it missing.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (real === undefined) return absolute;
  if (!roots.roots.some((root) => within(root, real))) throw refuse(absolute, 'resolves outside the data roots', roots);
  if (roots.refused.some((folder) => within(folder, real))) throw refuse(absolute, "is one of Kiln's own files", roots);
  return real;
}
