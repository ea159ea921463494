import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cell } from '../../../activities/common/dataset/cells';
import { loadColumns, loadDataset, writeDataset, type Column } from '../../../activities/common/dataset/dataset';
import { mulberry32 } from '../../../activities/common/random';
import {
  applyTransform,
  transformRows,
  transformWidth,
  TransformInputError,
  type TransformSpec,
} from '../../../activities/common/model/transform';
import { transformColumns, transformColumnsInto } from '../../../activities/common/model/transform-columns';
import { fileTestContext } from '../../support/step-context';

// transformColumns is the columnar twin of transformRows: evaluation and scoring switch to it on
// the promise that every feature value stays the same.

const ctx = fileTestContext();

const columns: Column[] = [
  { name: 'age', type: 'integer' },
  { name: 'income', type: 'number' },
  { name: 'city', type: 'string' },
  { name: 'owner', type: 'boolean' },
  { name: 'y', type: 'string' },
];
const random = mulberry32(5);
const rows = Array.from({ length: 500 }, () => ({
  age: random() < 0.1 ? null : Math.floor(random() * 80),
  income: random() < 0.1 ? null : random() * 1e5,
  city: random() < 0.1 ? null : ['', 'a', 'b', 'c', 'unseen'][Math.floor(random() * 5)]!,
  owner: random() < 0.1 ? null : random() < 0.5,
  y: 'n',
}));

const spec: TransformSpec = {
  kind: 'kiln.transform',
  version: 2,
  label: 'y',
  features: [
    { name: 'age', type: 'bucketized', boundaries: [18, 30.5, 65], impute: { strategy: 'median', value: 40 } },
    { name: 'income', type: 'numeric', mean: 51234.5678, std: 28000.125 },
    { name: 'age', type: 'numeric', mean: 40, std: 3, impute: { strategy: 'constant', value: -1 } },
    { name: 'city', type: 'categorical', categories: ['a', 'b', 'c'], impute: { strategy: 'constant', value: 'b' } },
    { name: 'owner', type: 'categorical', categories: ['false', 'true'] },
    { name: 'income', type: 'bucketized', boundaries: [1e4, 5e4] },
  ],
};

describe('transformColumns', () => {
  it("gives transformRows' float32 matrix, and applyTransform's float64 values, for the same rows", async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    const data = await loadColumns(ctx.artifacts, ref, ['age', 'income', 'city', 'owner']);
    const { rows: objects } = await loadDataset(ctx.artifacts, ref);
    assert.deepEqual(transformColumns(spec, data), transformRows(spec, objects));
    assert.deepEqual(
      transformColumns(spec, data, { precision: 'float64' }),
      Float64Array.from(objects.flatMap((r) => applyTransform(spec, r))),
    );
  });

  it('transforms a range of rows into a buffer of the caller, overwriting what it held', async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    const data = await loadColumns(ctx.artifacts, ref);
    const width = transformWidth(spec);
    const out = new Float32Array(10 * width).fill(7);
    transformColumnsInto(spec, data, out, 100, 110);
    assert.deepEqual(out, transformRows(spec, (await loadDataset(ctx.artifacts, ref)).rows.slice(100, 110)));
    assert.throws(() => transformColumnsInto(spec, data, out, 100, 111), RangeError);
  });

  it('reads a column it is not given as missing on every row, as a row without the key', () => {
    const data = { rows: 2, values: new Map([['income', Float64Array.of(1e4, NaN)]]) };
    assert.deepEqual(transformColumns(spec, data), transformRows(spec, [{ income: 1e4 }, {}]));
  });

  it('reads numeric text and numbers in a categorical feature as the per-row transform does', () => {
    const data = {
      rows: 3,
      values: new Map<string, Float64Array | Cell[]>([
        ['age', ['20', null, 70]],
        ['income', [' 5 ', 3, null]],
        ['city', Float64Array.of(1, NaN, 2)],
      ]),
    };
    const objects = [0, 1, 2].map((r) => Object.fromEntries([...data.values].map(([k, v]) => [k, v[r]])));
    assert.deepEqual(transformColumns(spec, data), transformRows(spec, objects));
  });

  it('throws the error transformRows throws first: the earliest row, then the first feature', () => {
    const cases: Array<[Cell[], Cell[], RegExp]> = [
      [[1, 'old', 2], ['rich', 1, 2], /feature 'income': expected a number, got "rich"/],
      [[1, 'old', 2], [1, 'rich', 'poor'], /feature 'age': expected a number, got "old"/],
    ];
    for (const [age, income, message] of cases) {
      const data = {
        rows: 3,
        values: new Map([
          ['age', age],
          ['income', income],
        ]),
      };
      const objects = [0, 1, 2].map((r) => ({ age: age[r], income: income[r] }));
      assert.throws(() => transformRows(spec, objects), message);
      assert.throws(
        () => transformColumns(spec, data),
        (error: Error) => error instanceof TransformInputError && message.test(error.message),
      );
    }
  });
});
