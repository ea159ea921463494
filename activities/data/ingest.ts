import { stat } from 'node:fs/promises';
import type { ColumnType, DatasetRef } from '../refs';
import { stopIfCancelled, type SourceRef, type StepContext } from '../library';
import type { Cell } from '../common/dataset/cells';
import { writeDataset, type Column } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { confinedPath } from '../common/data-roots';
import { auditSensitiveRead, tagColumns, type SensitivePolicy } from './sensitive';

// What the file readers (data.readCsv, data.readJsonl) share: the file check, progress, and the
// second pass that writes the rows a first pass has typed and counted.

const PROGRESS_EVERY = 10_000;

/**
 * The canonical path of an existing regular file below the worker's data roots; a path outside
 * them fails as InvalidInput, anything else as InvalidData, naming the path and never its content.
 */
export async function inputFile(path: string): Promise<string> {
  const absolute = await confinedPath(path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw invalidData(
        `${absolute} does not exist; check the path (relative paths start at the worker's working directory)`,
        { path: absolute },
      );
    throw error;
  });
  if (!info.isFile()) throw invalidData(`${absolute} is not a file`, { path: absolute });
  return absolute;
}

export type Progress = (details: { phase: 'scan' | 'write'; rows: number; of?: number }) => void;

/** Every PROGRESS_EVERY rows: heartbeats the details and stops if the step was cancelled. */
export function progress(ctx: StepContext): Progress {
  return (details) => {
    if (details.rows % PROGRESS_EVERY !== 0) return;
    ctx.heartbeat(details);
    stopIfCancelled(ctx);
  };
}

/** What a first pass over a file learned: the typed columns, the rows, the missing values per column. */
export interface Scanned {
  path: string;
  columns: Column[];
  rows: number;
  missing: number[];
  /** The fingerprint of the bytes the first pass read. */
  source: () => SourceRef;
  /** The input's label column and sensitive columns: tagged, or dropped, as the rows are written. */
  label?: string;
  sensitive?: SensitivePolicy;
}

/** The second pass's rows, and the fingerprint of the bytes they were parsed from (once they are all read). */
export interface Reread {
  values: AsyncIterable<Cell[]>;
  source: () => SourceRef;
}

/**
 * The second pass: writes the rows (parsed by the reader as its columns' types) as a dataset,
 * reports the file as the step's source, and fails if the file changed between the passes: the
 * rows are counted and both passes' bytes hashed, so lineage names the bytes the dataset holds.
 */
export async function writeScanned(
  ctx: StepContext,
  heartbeat: Progress,
  format: string,
  scanned: Scanned,
  reread: Reread,
) {
  const { path, rows } = scanned;
  const policy = scanned.sensitive ?? {};
  const { columns, kept } = tagColumns(path, scanned.columns, policy, scanned.label);
  const missing = kept.map((i) => scanned.missing[i]!);
  let written = 0;
  async function* counted(): AsyncGenerator<Cell[]> {
    for await (const row of reread.values) {
      yield kept.length === row.length ? row : kept.map((i) => row[i]!);
      written++;
      heartbeat({ phase: 'write', rows: written, of: rows });
    }
  }
  const dataset = await writeDataset(ctx.artifacts, columns, counted());
  if (dataset.rows !== rows)
    throw new Error(`${path} changed while it was being read (${rows} rows, then ${dataset.rows}); read it again`);
  const [first, second] = [scanned.source(), reread.source()];
  if (first.sha256 !== second.sha256) {
    throw new Error(
      `${path} changed while it was being read (sha256 ${first.sha256.slice(0, 12)}…, then ${second.sha256.slice(0, 12)}…); read it again`,
    );
  }
  return finishRead(ctx, format, { path, source: first, dataset, policy, missing });
}

/**
 * What every file reader does once its dataset is stored: reports the file as the step's source,
 * audits a read of sensitive columns, and answers with the dataset and a summary (rows, columns,
 * missing values by column).
 */
export async function finishRead(
  ctx: StepContext,
  format: string,
  read: { path: string; source: SourceRef; dataset: DatasetRef; policy: SensitivePolicy; missing: number[] },
) {
  const { path, source, dataset, policy, missing } = read;
  const { columns, rows } = dataset;
  ctx.readFrom(source);
  await auditSensitiveRead(ctx, dataset, policy);
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
