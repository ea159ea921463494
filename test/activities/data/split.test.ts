import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset, writeDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { chooseTestRows, splitImpl } from '../../../activities/data/split';
import { fileTestContext } from '../../support/step-context';

const ctx = fileTestContext();

const columns = [
  { name: 'id', type: 'integer' as const },
  { name: 'y', type: 'string' as const },
];
const rows = Array.from({ length: 100 }, (_, i) => [i, i % 4 === 0 ? 'bad' : 'good']);

describe('data.split', () => {
  it('keeps the class balance in both parts when stratified', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    const { train, test } = await splitImpl.run({ dataset, testFraction: 0.2, seed: 7, stratifyBy: 'y' }, ctx);
    assert.equal(train.rows, 80);
    assert.equal(test.rows, 20);
    const testRows = (await loadDataset(ctx.artifacts, test)).rows;
    assert.equal(testRows.filter((r) => r.y === 'bad').length, 5);
    const ids = new Set([...(await loadDataset(ctx.artifacts, train)).rows, ...testRows].map((r) => r.id));
    assert.equal(ids.size, 100);
  });

  it('gives the same split for the same seed and another for another seed', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    const a = await splitImpl.run({ dataset, testFraction: 0.3, seed: 1 }, ctx);
    const b = await splitImpl.run({ dataset, testFraction: 0.3, seed: 1 }, ctx);
    const c = await splitImpl.run({ dataset, testFraction: 0.3, seed: 2 }, ctx);
    assert.equal(a.test.sha256, b.test.sha256);
    assert.notEqual(a.test.sha256, c.test.sha256);
  });

  it('rejects a stratum column the dataset does not have', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    await assert.rejects(
      splitImpl.run({ dataset, testFraction: 0.2, seed: 1, stratifyBy: 'class' }, ctx),
      /no such column/,
    );
  });

  it('rejects stratifying by a label with a single class, on the German credit rows of one class', async () => {
    const credit = (await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx)).dataset;
    const good = (await loadDataset(ctx.artifacts, credit)).rows.filter((r) => r.class === 'good');
    const dataset = await writeDataset(ctx.artifacts, credit.columns, good);
    await assert.rejects(
      splitImpl.run({ dataset, testFraction: 0.2, seed: 1, stratifyBy: 'class' }, ctx),
      /cannot stratify by 'class': all 700 rows have the value "good"; a label needs at least two classes/,
    );
    const { train } = await splitImpl.run({ dataset, testFraction: 0.2, seed: 1 }, ctx);
    assert.equal(train.rows, 560);
  });

  it('rejects a split that leaves one side empty', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows.slice(0, 2));
    await assert.rejects(splitImpl.run({ dataset, testFraction: 0.1, seed: 1 }, ctx), /leaves the test set empty/);
  });

  it('writes each part as the same bytes as its rows written one by one, missing values and all', async () => {
    const mixed = [
      { name: 'id', type: 'integer' as const },
      { name: 'x', type: 'number' as const },
      { name: 'flag', type: 'boolean' as const },
      { name: 'y', type: 'string' as const },
    ];
    const all = Array.from({ length: 5000 }, (_, i) => [
      i,
      i % 7 === 0 ? null : i / 3,
      i % 5 === 0 ? null : i % 2 === 0,
      i % 11 === 0 ? null : `c${i % 3}`,
    ]);
    const dataset = await writeDataset(ctx.artifacts, mixed, all);
    const { train, test } = await splitImpl.run({ dataset, testFraction: 0.3, seed: 5, stratifyBy: 'x' }, ctx);
    const isTest = chooseTestRows(
      all.map((row) => JSON.stringify(row[1])),
      0.3,
      5,
    );
    const expected = async (want: number) =>
      (
        await writeDataset(
          ctx.artifacts,
          mixed,
          all.filter((_, i) => isTest[i] === want),
        )
      ).sha256;
    assert.equal(train.sha256, await expected(0));
    assert.equal(test.sha256, await expected(1));
  });

  it('rounds each stratum separately', () => {
    const isTest = chooseTestRows(['a', 'a', 'a', 'a', 'b', 'b'], 0.5, 3);
    assert.equal(
      isTest.slice(0, 4).reduce((s, v) => s + v, 0),
      2,
    );
    assert.equal(
      isTest.slice(4).reduce((s, v) => s + v, 0),
      1,
    );
  });
});
