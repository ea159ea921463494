import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDataset, writeDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { fileTestContext } from '../../support/step-context';
import { median, thresholdLabelImpl } from '../../../activities/data/threshold';

const ctx = fileTestContext();

const wages = () => readCsvImpl.run({ path: 'examples/data/cps-wages-1985.csv' }, ctx).then((r) => r.dataset);
const label = { column: 'wage', label: 'pay', above: 'high', atOrBelow: 'low' };

describe('data.threshold', () => {
  it('labels the CPS 1985 wages above the median high, the rest low, and drops wage', async () => {
    const dataset = await wages();
    const out = await thresholdLabelImpl.run({ dataset, ...label, threshold: 'median' }, ctx);
    assert.equal(out.threshold, 7.78);
    assert.deepEqual(out.counts, { high: 266, low: 268 });
    assert.equal(out.dataset.rows, 534);
    assert.deepEqual(
      out.dataset.columns.map((c) => c.name),
      ['education', 'south', 'gender', 'experience', 'union', 'age', 'race', 'occupation', 'sector', 'married', 'pay'],
    );
    const rows = (await loadDataset(ctx.artifacts, out.dataset)).rows;
    // The file's first row earns 5.10 an hour, its sixth 13.07.
    assert.equal(rows[0]!.pay, 'low');
    assert.equal(rows[5]!.pay, 'high');
    assert.equal(rows.filter((r) => r.pay === 'high').length, 266);
    assert.ok(rows.every((r) => !('wage' in r)));
  });

  it('writes the same bytes as the labelled rows written one by one', async () => {
    const dataset = await wages();
    const out = await thresholdLabelImpl.run({ dataset, ...label, threshold: 0.1 + 7.6 }, ctx);
    const { columns, rows } = await loadDataset(ctx.artifacts, dataset);
    const kept = columns.filter((c) => c.name !== 'wage');
    const expected = await writeDataset(
      ctx.artifacts,
      [...kept, { name: 'pay', type: 'string' }],
      rows.map((r) => [...kept.map((c) => r[c.name]!), (r.wage as number) > 0.1 + 7.6 ? 'high' : 'low']),
    );
    assert.equal(out.dataset.sha256, expected.sha256);
  });

  it('uses a declared threshold, with rows at the threshold in the lower class', async () => {
    const dataset = await writeDataset(
      ctx.artifacts,
      [
        { name: 'id', type: 'integer' },
        { name: 'wage', type: 'number' },
      ],
      [
        [1, 4],
        [2, 10],
        [3, 10.01],
      ],
    );
    const out = await thresholdLabelImpl.run({ dataset, ...label, threshold: 10 }, ctx);
    const rows = (await loadDataset(ctx.artifacts, out.dataset)).rows;
    assert.deepEqual(rows, [
      { id: 1, pay: 'low' },
      { id: 2, pay: 'low' },
      { id: 3, pay: 'high' },
    ]);
    assert.deepEqual(out.counts, { high: 1, low: 2 });
  });

  it('rejects a threshold that leaves one class empty, naming the column range', async () => {
    const dataset = await wages();
    await assert.rejects(
      thresholdLabelImpl.run({ dataset, ...label, threshold: 100 }, ctx),
      /a threshold of 100 puts every row of 'wage' \(1 to 44\.5\) in class 'low'/,
    );
  });

  it('rejects a column that is missing or not numeric', async () => {
    const dataset = await wages();
    await assert.rejects(
      thresholdLabelImpl.run({ dataset, ...label, column: 'salary', threshold: 'median' }, ctx),
      /no such column; columns are education/,
    );
    await assert.rejects(
      thresholdLabelImpl.run({ dataset, ...label, column: 'gender', threshold: 'median' }, ctx),
      /holds string values, not numbers/,
    );
  });

  it('rejects a label name that would overwrite another column', async () => {
    const dataset = await wages();
    await assert.rejects(
      thresholdLabelImpl.run({ dataset, ...label, label: 'race', threshold: 'median' }, ctx),
      /would replace the existing column 'race'/,
    );
  });

  it('rejects a row with no value to threshold, naming the row', async () => {
    const dataset = await writeDataset(ctx.artifacts, [{ name: 'wage', type: 'number' }], [[4], [null], [9]]);
    await assert.rejects(
      thresholdLabelImpl.run({ dataset, ...label, threshold: 5 }, ctx),
      /row 2 has no value for 'wage'/,
    );
  });

  it('takes the mean of the two middle values as the median of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, 1, 3]), 3);
  });
});
