import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { confinedPath } from '../../activities/common/data-roots';
import { FailureTypes } from '../../dsl/failures';

/** A path `kiln check` will not read: outside the project, or a symlink leading out of it. */
export class ProjectPathError extends Error {
  constructor(
    readonly path: string,
    readonly root: string,
    options?: { cause?: unknown },
  ) {
    super(
      `refusing ${path}: it is outside the project ${root} or a symlink leading out of it; kiln check reads only files below the directory it runs in`,
      options,
    );
    this.name = 'ProjectPathError';
  }
}

/**
 * The canonical path of `path` when it lies below `root`, symlinks resolved (the data roots' rule,
 * with the project as the only root); a ProjectPathError otherwise.
 */
export async function inProject(path: string, root: string): Promise<string> {
  try {
    return await confinedPath(resolve(root, path), { roots: [root], named: [root], refused: [] });
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === FailureTypes.InvalidInput)
      throw new ProjectPathError(path, root, { cause: error });
    throw error;
  }
}

// Folders no pipeline lives in: dependencies, Kiln's home and other dot-folders, and tests.
const SKIPPED_DIRS = new Set(['node_modules', 'test', 'tests', 'dist', 'build']);
const PIPELINE_EXPORT = /export\s+(default|const\s+\w+\s*=)\s*pipeline\s*\(/;

const isCandidate = (name: string) =>
  (name.endsWith('.ts') && !/\.(d|test|checks)\.ts$/.test(name)) || name.endsWith('.json');

/** True for a module that exports a `pipeline(...)`, or a JSON file that is a Kiln plan. */
async function looksLikePipeline(file: string): Promise<boolean> {
  const text = await readFile(file, 'utf8');
  if (file.endsWith('.json')) return text.includes('"kiln.plan"');
  return PIPELINE_EXPORT.test(text);
}

async function walk(dir: string, found: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name)) await walk(path, found);
    } else if (entry.isFile() && isCandidate(entry.name) && (await looksLikePipeline(path))) {
      found.push(path);
    }
  }
}

/**
 * The pipeline files to check, project-relative and sorted: each named file as it is, and below
 * each named folder every module exporting a pipeline and every JSON plan (symlinks not followed).
 */
export async function findPipelines(paths: readonly string[], root: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths.length ? paths : ['.']) {
    const real = await inProject(path, root);
    const info = await stat(real).catch(() => undefined);
    if (!info)
      throw new Error(`${path} does not exist (looked for ${real}); name a pipeline module, a plan.json or a folder`);
    if (info.isDirectory()) await walk(real, found);
    else found.push(real);
  }
  return [...new Set(found)].map((file) => relative(root, file)).sort();
}

/**
 * The checks file beside a pipeline (`credit-risk.ts` → `credit-risk.checks.ts`) when there is one,
 * canonical and confined to the project like the pipeline itself.
 */
export async function checksFileBeside(file: string, root: string): Promise<string | undefined> {
  const beside = join(dirname(file), `${basename(file).replace(/(\.plan)?\.json$|\.ts$/, '')}.checks.ts`);
  const real = await inProject(beside, root);
  return (await stat(real).catch(() => undefined))?.isFile() ? real : undefined;
}
