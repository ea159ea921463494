import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Cell } from '../../../activities/common/dataset/cells';
import { loadColumns, writeDataset, type Column } from '../../../activities/common/dataset/dataset';
import { mulberry32 } from '../../../activities/common/random';
import { columnBatches } from '../../../activities/common/dataset/dataset';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { NonFiniteFitError, TransformFitter, type TransformOptions } from '../../../activities/features/fitter';
import { fileTestContext } from '../../support/step-context';
import { writeVersion1Dataset } from '../../support/version1-dataset';

// features.fit reads columns a batch at a time; the transform it fits must be the one the row
// reader fitted, to the last bit, so that stored transforms (and their hashes) keep their meaning.

const ctx = fileTestContext();

const columns: Column[] = [
  { name: 'x', type: 'number' },
  { name: 'n', type: 'integer' },
  { name: 'b', type: 'boolean' },
  { name: 's', type: 'string' },
  { name: 'y', type: 'string' },
];
const random = mulberry32(11);
const rows = Array.from({ length: 997 }, () => ({
  x: random() < 0.1 ? null : random() * 1e6 - 3e5,
  n: random() < 0.1 ? null : Math.floor(random() * 9),
  b: random() < 0.1 ? null : random() < 0.5,
  s: random() < 0.1 ? null : ['', 'a', 'b', 'é', 'Z'][Math.floor(random() * 5)]!,
  y: random() < 0.5 ? 'p' : 'q',
}));
const declared: TransformOptions = {
  impute: { x: 'median', n: 'mean', b: 'mostFrequent', s: { constant: 'none' } },
  bucketize: { n: { quantiles: 4 } },
};

/** The same rows as column batches of `size` rows. */
function batchesOf(data: readonly Record<string, Cell>[], size: number) {
  const numeric = new Set(columns.filter((c) => c.type === 'number' || c.type === 'integer').map((c) => c.name));
  const out = [];
  for (let start = 0; start < data.length; start += size) {
    const part = data.slice(start, start + size);
    const values = new Map(
      columns.map((c) => [
        c.name,
        numeric.has(c.name)
          ? Float64Array.from(part, (r) => (r[c.name] as number | null) ?? NaN)
          : part.map((r) => r[c.name] ?? null),
      ]),
    );
    out.push({ rows: part.length, values });
  }
  return out;
}

describe('features.fit on columns', () => {
  for (const [name, options] of [
    ['nothing declared', {}],
    ['imputes and quantile buckets', declared],
  ] as const) {
    it(`fits from column batches the transform it fits from rows, bit for bit (${name})`, () => {
      const byRows = new TransformFitter('y', columns.slice(0, 4), options);
      rows.forEach((r) => byRows.observe(r));
      const byColumns = new TransformFitter('y', columns.slice(0, 4), options);
      batchesOf(rows, 100).forEach((batch) => byColumns.observeColumns(batch));
      assert.deepEqual(byColumns.finish(), byRows.finish());
    });
  }

  it('names the first row holding an infinity, whichever column it is in, as the row reader does', () => {
    const data = [
      { x: 1, n: 2 },
      { x: 2, n: 3 },
      { x: 3, n: -Infinity },
      { x: Infinity, n: 4 },
    ];
    const numbers = columns.slice(0, 2);
    const byRows = new TransformFitter('y', numbers);
    const rowError = (() => {
      try {
        data.forEach((r) => byRows.observe(r));
      } catch (error) {
        return error;
      }
    })();
    const byColumns = new TransformFitter('y', numbers);
    const values = new Map(numbers.map((c) => [c.name, Float64Array.from(data, (r) => r[c.name as 'x' | 'n'])]));
    assert.throws(
      () => byColumns.observeColumns({ rows: data.length, values }),
      (error: NonFiniteFitError) => {
        assert.ok(error instanceof NonFiniteFitError);
        assert.deepEqual([error.column, error.row, error.message], ['n', 3, (rowError as Error).message]);
        return true;
      },
    );
  });

  it('stores the same transform from a Parquet dataset and from a JSON Lines (version 1) one', async () => {
    const parquet = await writeDataset(ctx.artifacts, columns, rows);
    const jsonLines = await writeVersion1Dataset(ctx.artifacts, columns, rows);
    for (const options of [{}, declared]) {
      const a = await fitFeaturesImpl.run({ dataset: parquet, label: 'y', ...options }, ctx);
      const b = await fitFeaturesImpl.run({ dataset: jsonLines, label: 'y', ...options }, ctx);
      assert.equal(a.transform.sha256, b.transform.sha256);
    }
  });

  it('reads only the named columns, in batches that add up to loadColumns', async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    for (const dataset of [ref, await writeVersion1Dataset(ctx.artifacts, columns, rows)]) {
      const whole = await loadColumns(ctx.artifacts, ref, ['s', 'x']);
      const seen = { s: [] as Cell[], x: [] as number[] };
      for await (const batch of columnBatches(ctx.artifacts, dataset, ['s', 'x'], 300)) {
        assert.deepEqual([...batch.values.keys()], ['s', 'x']);
        assert.ok(batch.rows <= 300);
        seen.s.push(...(batch.values.get('s') as Cell[]));
        seen.x.push(...(batch.values.get('x') as Float64Array));
      }
      assert.deepEqual(seen.s, whole.values.get('s'));
      assert.deepEqual(Float64Array.from(seen.x), whole.values.get('x'));
    }
  });

  it('refuses a dataset whose row count is not its reference', async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    const read = async () => {
      for await (const batch of columnBatches(ctx.artifacts, { ...ref, rows: 5 }, ['x'])) void batch;
    };
    await assert.rejects(read(), /holds 997 rows but its reference says 5/);
  });
});
