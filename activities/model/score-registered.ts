import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { NotFoundError } from '../../store/errors';
import type { ArtifactStore } from '../artifacts/store';
import type { Cell } from '../common/dataset/cells';
import { confinedPath } from '../common/data-roots';
import { invalidData, requireStore } from '../common/failures';
import { implement } from '../library';
import { artifactUri, type DatasetRef } from '../refs';
import { orderedRows } from '../common/dataset/dataset';
import { openScorer, scoreDataset } from './score';
import { connectTable, writeTable } from './score-table';
import { scoreRegistered } from './steps';

const STEP = 'model.scoreRegistered';

/** One CSV field as RFC 4180 quotes it; a missing value is an empty field. */
const csvField = (value: Cell): string => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/**
 * The folder, created if missing: its nearest existing ancestor must lie below a data root once
 * symlinks are resolved, and the missing part is made beneath that real path.
 */
async function confinedFolder(folder: string): Promise<string> {
  const missing: string[] = [];
  let existing = folder;
  while (
    !(await stat(existing).then(
      (s) => s.isDirectory(),
      () => false,
    )) &&
    dirname(existing) !== existing
  ) {
    missing.unshift(basename(existing));
    existing = dirname(existing);
  }
  const made = join(await confinedPath(existing), ...missing);
  await mkdir(made, { recursive: true });
  return made;
}

/**
 * Writes a dataset as CSV at `path` (below the data roots), through a temporary file in the same
 * folder renamed over it: a reader never sees half a file, and a symlink at the path is replaced,
 * not written through.
 */
async function writeCsv(artifacts: ArtifactStore, dataset: DatasetRef, path: string) {
  const folder = await confinedFolder(resolve(dirname(path)));
  const target = join(folder, basename(path));
  const partial = join(folder, `.${basename(path)}.${randomUUID()}.partial`);
  const hash = createHash('sha256');
  let size = 0;
  const line = (cells: Cell[]) => {
    const text = `${cells.map(csvField).join(',')}\n`;
    hash.update(text);
    size += Buffer.byteLength(text);
    return text;
  };
  // Lines go out in chunks: one write per row would dominate on millions of rows.
  async function* lines() {
    let text = '';
    for await (const item of orderedRows(artifacts, dataset)) {
      text += line(Array.isArray(item) ? item : dataset.columns.map((c) => c.name));
      if (text.length >= 1 << 16) {
        yield text;
        text = '';
      }
    }
    yield text;
  }
  try {
    await pipeline(lines(), createWriteStream(partial, { flags: 'wx', mode: 0o644 }));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return {
    kind: 'file' as const,
    uri: pathToFileURL(target).href,
    sha256: hash.digest('hex'),
    size,
    rows: dataset.rows,
  };
}

export const scoreRegisteredImpl = implement(scoreRegistered, async (input, ctx) => {
  const store = requireStore(ctx, STEP);
  const at = input.model.lastIndexOf('@');
  const [name, selector] = [input.model.slice(0, at), input.model.slice(at + 1)];
  const version = await store.registry.getModelVersion(name, selector).catch((error: unknown) => {
    if (error instanceof NotFoundError)
      throw ApplicationFailure.nonRetryable(`${STEP}: ${error.message}`, FailureTypes.NotFound, { model: input.model });
    throw error;
  });
  if ((version.signature as { format?: string } | null)?.format === 'onnx')
    throw invalidData(
      `${STEP}: ${name} version ${version.version} is an imported ONNX graph; score it with model.score and engine 'onnx'`,
      { model: input.model },
    );
  // The table's server is checked and connected to before anything is scored or written.
  const connection = input.table ? await connectTable(input.table) : undefined;
  try {
    const uri = artifactUri(version.artifactSha256);
    // The version's model is read here, not passed in: declaring it gives lineage the edge from the version to this run.
    ctx.readFrom({ kind: 'model', uri, sha256: version.artifactSha256, size: (await ctx.artifacts.read(uri)).length });
    const scored = await scoreDataset(
      await openScorer(ctx.artifacts, { kind: 'model', uri }, input.engine),
      input,
      ctx,
    );
    const written = input.output ? await writeCsv(ctx.artifacts, scored.predictions, input.output) : undefined;
    const table =
      input.table && connection
        ? await writeTable(ctx, input.table, connection, scored.predictions, { name, version: version.version })
        : undefined;
    return {
      model: { name, version: version.version, sha256: version.artifactSha256 },
      ...scored,
      ...(written ? { written } : {}),
      ...(table ? { table } : {}),
    };
  } finally {
    // Ending the session rolls back a transaction a failure left open.
    await connection?.client.end().catch(() => {});
  }
});
