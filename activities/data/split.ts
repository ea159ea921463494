import { hashForReport } from '../common/keyed-hash';
import { implement } from '../library';
import type { Cell } from '../common/dataset/cells';
import { loadColumns, readDatasetValues, writeDataset } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { mulberry32 } from '../common/random';
import type { DatasetRef } from '../refs';
import type { StepContext } from '../library';
import { parquetFileOf, storedColumns, writeRowsOf } from './dataset-file';
import { splitDataset } from './steps';

/**
 * Strata as codes: `codes[row]` indexes `keys`, each key the JSON of one distinct value of the
 * stratum column (so the key order, and with it the split, is that of the JSON texts).
 */
interface Strata {
  codes: Uint32Array;
  keys: string[];
}

/**
 * Chooses the test rows: within each stratum (in sorted key order), shuffle the row indices
 * with the seeded generator and take round(size × testFraction) of them. Without a stratum
 * column the whole dataset is one stratum.
 */
export function chooseTestRows(strata: readonly string[], testFraction: number, seed: number): Uint8Array {
  const keys: string[] = [];
  const codeOf = new Map<string, number>();
  const codes = Uint32Array.from(strata, (key) => {
    let code = codeOf.get(key);
    if (code === undefined) codeOf.set(key, (code = keys.push(key) - 1));
    return code;
  });
  return chooseTestRowsOf({ codes, keys }, testFraction, seed);
}

/** `chooseTestRows` over coded strata: each stratum's rows in one typed array, no array per row. */
export function chooseTestRowsOf({ codes, keys }: Strata, testFraction: number, seed: number): Uint8Array {
  // Each stratum's rows, ascending, in one block of `order`: the order the row-wise version pushed them in.
  const starts = new Uint32Array(keys.length + 1);
  for (const code of codes) starts[code + 1]!++;
  for (let k = 0; k < keys.length; k++) starts[k + 1]! += starts[k]!;
  const order = new Uint32Array(codes.length);
  const filled = starts.slice(0, keys.length);
  for (let row = 0; row < codes.length; row++) order[filled[codes[row]!]!++] = row;

  const random = mulberry32(seed);
  const isTest = new Uint8Array(codes.length);
  const sorted = keys.map((_, k) => k).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  for (const k of sorted) {
    const group = order.subarray(starts[k]!, starts[k + 1]!);
    // Fisher–Yates exactly as shuffleInPlace draws it, so a seed gives the split it always gave.
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const a = group[i]!;
      group[i] = group[j]!;
      group[j] = a;
    }
    const take = Math.round(group.length * testFraction);
    for (let i = 0; i < take; i++) isTest[group[i]!] = 1;
  }
  return isTest;
}

/** The stratum of every row, read from the one column that holds it. */
async function strataOf(ctx: StepContext, dataset: DatasetRef, column: string | undefined): Promise<Strata> {
  if (column === undefined) return { codes: new Uint32Array(dataset.rows), keys: [''] };
  const values = (await loadColumns(ctx.artifacts, dataset, [column])).values.get(column)!;
  const keys: string[] = [];
  const codeOf = new Map<Cell, number>();
  const codes = new Uint32Array(dataset.rows);
  // Map keys are values (NaN and -0 meet null's and 0's JSON below); JSON is made once per distinct value.
  for (let row = 0; row < codes.length; row++) {
    const raw = values[row]!;
    const value = typeof raw === 'number' && Number.isNaN(raw) ? null : raw;
    let code = codeOf.get(value);
    if (code === undefined) codeOf.set(value, (code = keys.push(JSON.stringify(value)) - 1));
    codes[row] = code;
  }
  return { codes, keys };
}

export const splitImpl = implement(splitDataset, async (input, ctx) => {
  const { dataset, testFraction, seed, stratifyBy } = input;
  const column = stratifyBy === undefined ? -1 : dataset.columns.findIndex((c) => c.name === stratifyBy);
  if (stratifyBy !== undefined && column < 0) {
    throw invalidData(
      `cannot stratify by '${stratifyBy}': the dataset has no such column; columns are ${dataset.columns.map((c) => c.name).join(', ')}`,
      {
        column: stratifyBy,
      },
    );
  }

  const strata = await strataOf(ctx, dataset, stratifyBy);
  const rows = strata.codes.length;
  // Stratifying by a column means keeping its classes balanced; one class is a label nothing can learn from.
  if (stratifyBy !== undefined && rows > 0 && strata.keys.length === 1) {
    const value = JSON.parse(strata.keys[0]!) as unknown;
    const shown = dataset.columns[column]!.sensitive ? hashForReport(value) : value;
    throw invalidData(
      `cannot stratify by '${stratifyBy}': all ${rows} rows have the value ${JSON.stringify(shown)}; a label needs at least two classes, so check the data or the column`,
      { column: stratifyBy, value: shown, rows },
    );
  }
  const isTest = chooseTestRowsOf(strata, testFraction, seed);
  const tests = isTest.reduce((sum, v) => sum + v, 0);
  if (tests === 0 || tests === rows) {
    throw invalidData(
      `a test fraction of ${testFraction} of ${rows} rows leaves the ${tests === 0 ? 'test' : 'train'} set empty; use more rows or another fraction`,
      { rows, testFraction },
    );
  }
  ctx.heartbeat({ phase: 'test rows chosen', rows, test: tests });

  const file = await parquetFileOf(ctx.artifacts, dataset);
  let train: DatasetRef;
  let test: DatasetRef;
  if (file) {
    const testRows = new Uint32Array(tests);
    for (let row = 0, at = 0; row < rows; row++) if (isTest[row] === 1) testRows[at++] = row;
    [train, test] = (await writeRowsOf(ctx.artifacts, file, testRows, [
      { keep: false, count: rows - tests },
      { keep: true, count: tests },
    ])) as [DatasetRef, DatasetRef];
  } else {
    // A version 1 dataset (JSON Lines) streams through twice more, once per output.
    async function* part(wantTest: 0 | 1): AsyncGenerator<Cell[]> {
      let i = 0;
      for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
        if (Array.isArray(item) && isTest[i++] === wantTest) yield item;
      }
    }
    const columns = await storedColumns(ctx.artifacts, dataset);
    train = await writeDataset(ctx.artifacts, columns, part(0));
    test = await writeDataset(ctx.artifacts, columns, part(1));
  }
  ctx.log('split dataset', {
    rows,
    train: train.rows,
    test: test.rows,
    stratifyBy: stratifyBy ?? null,
    seed,
  });
  return { train, test };
});
