import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { rocAuc } from '../../activities/common/metrics/classification';
import { MetricInputError } from '../../activities/common/metrics/input-check';
import { readCsvImpl } from '../../activities/data/read-csv';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { trainRegressorImpl } from '../../activities/train/regressor';
import { fileTestContext } from '../support/step-context';
import { writeInput } from '../support/step-inputs';

// Numbers that are not numbers, from the file to the metric (issue 11, item 11).

const ctx = fileTestContext();

const csv = (text: string) => writeInput(ctx, 'csv', text);

/** Asserts a non-retryable failure of `type` whose message matches each pattern. */
async function failsWith(promise: Promise<unknown>, type: string, ...messages: RegExp[]) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    for (const m of messages) assert.match(error.message, m);
    return true;
  });
}

describe('non-finite numbers at ingest (data.readCsv)', () => {
  for (const [token, line] of [
    ['Infinity', 3],
    ['-Infinity', 3],
    ['-inf', 3],
    ['nan', 3],
    ['1e309', 3],
  ] as const) {
    it(`refuses '${token}' in a numeric column, naming the file, the line and the column`, async () => {
      const path = await csv(`id,x,y\n1,0.5,0\n2,${token},1\n3,2.5,0\n`);
      await failsWith(
        readCsvImpl.run({ path }, ctx),
        'NonFiniteData',
        new RegExp(
          `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line ${line}, column 2: the value is not a finite number`,
        ),
        /1 row\(s\) of the column/,
        /nonFinite: 'missing'/,
      );
    });
  }

  it('names a column the input declared, and counts every row that holds such a value', async () => {
    const path = await csv('id,x\n1,inf\n2,1\n3,-Infinity\n');
    await failsWith(
      readCsvImpl.run({ path, columns: { x: 'number' } }, ctx),
      'NonFiniteData',
      /line 2, column 2 \('x'\)/,
      /2 row\(s\)/,
    );
  });

  it("reads them as missing values under nonFinite: 'missing', and counts them", async () => {
    const path = await csv('id,x\n1,inf\n2,1.5\n3,1e400\n4,NAN\n');
    const out = await readCsvImpl.run({ path, nonFinite: 'missing' }, ctx);
    assert.deepEqual(out.dataset.columns[1], { name: 'x', type: 'number' });
    assert.deepEqual(out.summary.missing, { x: 3 });
    const data = await loadDataset(ctx.artifacts, out.dataset);
    assert.deepEqual(
      data.rows.map((r) => r.x),
      [null, 1.5, null, null],
    );
  });

  it('refuses a non-finite label even under the missing rule: every row needs a label', async () => {
    const path = await csv('x,y\n1,0.5\n2,inf\n');
    await failsWith(
      readCsvImpl.run({ path, label: 'y', nonFinite: 'missing' }, ctx),
      'NonFiniteData',
      /column 2 \('y'\)/,
    );
  });

  it("keeps such words as text in a text column ('Nan' is a name)", async () => {
    const path = await csv('name,age\nNan,31\nInf,40\nBo,22\n');
    const out = await readCsvImpl.run({ path }, ctx);
    assert.deepEqual(out.dataset.columns[0], { name: 'name', type: 'string' });
    const data = await loadDataset(ctx.artifacts, out.dataset);
    assert.deepEqual(
      data.rows.map((r) => r.name),
      ['Nan', 'Inf', 'Bo'],
    );
  });
});

describe('non-finite numbers at fitting (features.fit)', () => {
  it('refuses a column whose values overflow its mean or spread (1e308), naming the column and the row', async () => {
    const path = await csv('x,big,y\n1,1e308,0\n2,-1e308,1\n3,1e308,0\n4,2,1\n');
    const { dataset } = await readCsvImpl.run({ path }, ctx);
    await failsWith(fitFeaturesImpl.run({ dataset, label: 'y' }, ctx), 'NonFiniteData', /column 'big'/, /row 1/);
  });

  it('fits values that are large but whose statistics stay in float32 range', async () => {
    const path = await csv('x,big,y\n1,1e30,0\n2,-1e30,1\n3,3e30,0\n4,2,1\n');
    const { dataset } = await readCsvImpl.run({ path }, ctx);
    const { transform } = await fitFeaturesImpl.run({ dataset, label: 'y' }, ctx);
    assert.deepEqual(transform.features, ['x', 'big']);
  });
});

describe('a training loss that becomes NaN or infinite (train.regressor)', () => {
  it('fails the step as TrainingDiverged, naming the epoch, instead of storing a model of NaN', async () => {
    // Steps of 1e30 overflow float32 within a few epochs: the weights, then the loss, become Infinity and NaN.
    const rows = Array.from({ length: 200 }, (_, i) => `${i},${i * 3}`).join('\n');
    const path = await csv(`x,y\n${rows}\n`);
    const { dataset } = await readCsvImpl.run({ path, label: 'y' }, ctx);
    const { transform } = await fitFeaturesImpl.run({ dataset, label: 'y' }, ctx);
    await failsWith(
      trainRegressorImpl.run(
        {
          train: dataset,
          transform,
          label: 'y',
          architecture: 'linear',
          epochs: 50,
          learningRate: 1e30,
          batchSize: 200,
          seed: 1,
        },
        ctx,
      ),
      'TrainingDiverged',
      /training diverged: the loss is (NaN|Infinity) after epoch \d+ of 50/,
    );
  });
});

describe('ROC AUC on one class', () => {
  it('is an error saying so, not NaN or 0.5 (scikit-learn refuses it too)', () => {
    assert.throws(
      () => rocAuc([1, 1, 1], [0.2, 0.4, 0.9]),
      (error: unknown) =>
        error instanceof MetricInputError && /only class 1 \(3 rows\); ROC AUC needs both classes/.test(error.message),
    );
  });
});
