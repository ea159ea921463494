import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ColumnType } from '../refs';
import type { SourceRef, StepContext } from '../library';
import type { Cell } from './cells';
import { writeDataset, type Column } from './dataset';
import { invalidData } from './invalid';

// What the file readers (data.readCsv, data.readJsonl) share: the file check, progress, and the
// second pass that writes the rows a first pass has typed and counted.

const PROGRESS_EVERY = 10_000;

/** The absolute path of an existing regular file; anything else fails as invalid data naming the path. */
export async function inputFile(path: string): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw invalidData(`${absolute} does not exist; check the path (relative paths start at the worker's working directory)`, { path: absolute });
    throw error;
  });
  if (!info.isFile()) throw invalidData(`${absolute} is not a file`, { path: absolute });
  return absolute;
}

export type Progress = (details: { phase: 'scan' | 'write'; rows: number; of?: number }) => void;

/** Every PROGRESS_EVERY rows: heartbeats the details and stops if the step was cancelled. */
export function progress(ctx: StepContext, step: string): Progress {
  return (details) => {
    if (details.rows % PROGRESS_EVERY !== 0) return;
    ctx.heartbeat(details);
    if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(`${step} was cancelled`);
  };
}

/** What a first pass over a file learned: the typed columns, the rows, the missing values per column. */
export interface Scanned {
  path: string;
  columns: Column[];
  rows: number;
  missing: number[];
  source: () => SourceRef;
}

/**
 * The second pass: writes the rows (parsed by the reader as its columns' types) as a dataset,
 * reports the file as the step's source, and fails if the file changed between the passes.
 */
export async function writeScanned(ctx: StepContext, heartbeat: Progress, format: string, scanned: Scanned, values: AsyncIterable<Cell[]>) {
  const { path, columns, rows, missing } = scanned;
  let written = 0;
  async function* counted(): AsyncGenerator<Cell[]> {
    for await (const row of values) {
      yield row;
      written++;
      heartbeat({ phase: 'write', rows: written, of: rows });
    }
  }
  const dataset = await writeDataset(ctx.artifacts, columns, counted());
  ctx.readFrom(scanned.source());
  if (dataset.rows !== rows) throw new Error(`${path} changed while it was being read (${rows} rows, then ${dataset.rows}); read it again`);
  ctx.log(`read ${format}`, { path, rows, columns: columns.length, sha256: dataset.sha256 });
  return {
    dataset,
    summary: {
      rows,
      columns: columns.length,
      missing: Object.fromEntries(columns.flatMap(({ name }, i) => (missing[i]! > 0 ? [[name, missing[i]!]] : []))),
    },
  };
}

/** `type` with its article, for messages: 'an integer', 'a number'. */
export const article = (type: ColumnType) => (type === 'integer' ? 'an integer' : `a ${type}`);
