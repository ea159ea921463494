import { hashForReport } from '../common/keyed-hash';
import { implement } from '../library';
import type { Cell } from '../common/dataset/cells';
import { readDatasetValues, writeDataset, type Column } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { mulberry32, shuffleInPlace } from '../common/random';
import { splitDataset } from './steps';

/**
 * Chooses the test rows: within each stratum (in sorted key order), shuffle the row indices
 * with the seeded generator and take round(size × testFraction) of them. Without a stratum
 * column the whole dataset is one stratum.
 */
export function chooseTestRows(strata: readonly string[], testFraction: number, seed: number): Uint8Array {
  const groups = new Map<string, number[]>();
  strata.forEach((key, i) => {
    const group = groups.get(key);
    if (group) group.push(i);
    else groups.set(key, [i]);
  });
  const random = mulberry32(seed);
  const isTest = new Uint8Array(strata.length);
  for (const key of [...groups.keys()].sort()) {
    const indices = shuffleInPlace(groups.get(key)!, random);
    const take = Math.round(indices.length * testFraction);
    for (let i = 0; i < take; i++) isTest[indices[i]!] = 1;
  }
  return isTest;
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

  // Only the stratum keys are held in memory; rows stream through twice more, once per output.
  const strata: string[] = [];
  let columns: Column[] = [];
  for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
    if (Array.isArray(item)) strata.push(column < 0 ? '' : JSON.stringify(item[column]));
    else columns = item.columns;
  }
  // Stratifying by a column means keeping its classes balanced; one class is a label nothing can learn from.
  if (stratifyBy !== undefined && strata.length > 0 && strata.every((key) => key === strata[0])) {
    const value = JSON.parse(strata[0]!) as unknown;
    const shown = columns[column]!.sensitive ? hashForReport(value) : value;
    throw invalidData(
      `cannot stratify by '${stratifyBy}': all ${strata.length} rows have the value ${JSON.stringify(shown)}; a label needs at least two classes, so check the data or the column`,
      { column: stratifyBy, value: shown, rows: strata.length },
    );
  }
  const isTest = chooseTestRows(strata, testFraction, seed);
  const tests = isTest.reduce((sum, v) => sum + v, 0);
  if (tests === 0 || tests === strata.length) {
    throw invalidData(
      `a test fraction of ${testFraction} of ${strata.length} rows leaves the ${tests === 0 ? 'test' : 'train'} set empty; use more rows or another fraction`,
      { rows: strata.length, testFraction },
    );
  }

  async function* part(wantTest: 0 | 1): AsyncGenerator<Cell[]> {
    let i = 0;
    for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
      if (!Array.isArray(item)) continue;
      if (isTest[i++] === wantTest) yield item;
    }
  }
  const train = await writeDataset(ctx.artifacts, columns, part(0));
  ctx.heartbeat({ phase: 'train written', rows: train.rows });
  const test = await writeDataset(ctx.artifacts, columns, part(1));
  ctx.log('split dataset', {
    rows: strata.length,
    train: train.rows,
    test: test.rows,
    stratifyBy: stratifyBy ?? null,
    seed,
  });
  return { train, test };
});
