import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { compile, pipeline } from '../../../dsl';
import type { DatasetRef } from '../../../activities/refs';
import {
  checkQualityImpl,
  DATA_QUALITY_FAILED,
  type QualityFailureDetails,
  type QualityReport,
} from '../../../activities/data/quality';
import { loadDataset, writeDataset, type Row } from '../../../activities/common/dataset/dataset';
import { psi } from '../../../activities/common/metrics/psi';
import { evaluate } from '../../../activities/data/quality-checks';
import { qualityCheck, type QualityCheck } from '../../../activities/data/quality-schema';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { checkQuality, readCsv, splitDataset } from '../../../activities/data/steps';
import { testContext } from '../../support/step-context';

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let credit: DatasetRef;
let creditRows: Row[];
let train: DatasetRef;
let test: DatasetRef;

before(async () => {
  ctx = await testContext();
  credit = (await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx)).dataset;
  creditRows = (await loadDataset(ctx.artifacts, credit)).rows;
  ({ train, test } = await splitImpl.run({ dataset: credit, testFraction: 0.25, seed: 7, stratifyBy: 'class' }, ctx));
});
after(async () => {
  await ctx.dispose();
});

/** Runs the step with checks as a pipeline would declare them, through the input schema. */
const run = (dataset: DatasetRef, checks: unknown[], onFailure?: 'fail' | 'warn') =>
  checkQualityImpl.run(checkQuality.input.parse({ dataset, checks, onFailure }), ctx);

/** The one result of a single check on the German credit data, or on rows given. */
async function only(check: unknown, dataset: DatasetRef = credit) {
  const out = await run(dataset, [check], 'warn');
  const report = await ctx.artifacts.readJson<QualityReport>(out.report.uri);
  assert.equal(report.checks.length, 1);
  return { out, result: report.checks[0]! };
}

/** 1-based numbers of the German credit rows that match. */
const rowsWhere = (test: (r: Row) => boolean) => creditRows.flatMap((r, i) => (test(r) ? [i + 1] : []));

const small = (values: Array<number | null>) =>
  writeDataset(
    ctx.artifacts,
    [{ name: 'age', type: 'integer' }],
    values.map((v) => [v]),
  );

describe('data.quality on the German credit data', () => {
  it('checks a column type; number accepts an integer column', async () => {
    assert.equal((await only({ column: 'age', type: 'number' })).result.passed, true);
    assert.equal((await only({ column: 'age', type: 'integer' })).result.passed, true);
    const { result } = await only({ column: 'age', type: 'string' });
    assert.equal(result.passed, false);
    assert.deepEqual(result.observed, { type: 'integer' });
    assert.equal(result.message, "column 'age' type string: the column is integer");
  });

  it('checks that a column has no missing values, listing the rows that do', async () => {
    assert.equal((await only({ column: 'age', notNull: true })).result.passed, true);
    const { result } = await only({ column: 'age', notNull: true }, await small([30, null, 41, null]));
    assert.equal(result.passed, false);
    assert.deepEqual(result.failingRows, { count: 2, first: [2, 4] });
    assert.equal(result.message, "column 'age' not null: 2 rows are missing a value (rows 2, 4)");
  });

  it('checks a range, reporting the observed bounds and the first rows out of it', async () => {
    const ok = await only({ column: 'age', min: 18, max: 100 });
    assert.equal(ok.result.passed, true);
    assert.deepEqual(ok.result.observed, { min: 19, max: 75 });
    const { result, out } = await only({ column: 'age', min: 18, max: 60 });
    const over = rowsWhere((r) => (r.age as number) > 60);
    assert.ok(over.length > 5);
    assert.deepEqual(result.failingRows, { count: over.length, first: over.slice(0, 5) });
    assert.equal(
      result.message,
      `column 'age' range [18, 60]: ${over.length} rows out of range (first rows ${over.slice(0, 5).join(', ')})`,
    );
    assert.deepEqual(out.failures, [
      { column: 'age', rule: 'range', message: result.message, count: over.length, rows: over.slice(0, 5) },
    ]);
  });

  it('fails a range on a column that is not numeric', async () => {
    const { result } = await only({ column: 'class', min: 0 });
    assert.equal(result.message, "column 'class' range >= 0: the column is string, not numeric");
  });

  it('checks allowed values, naming the others it found', async () => {
    assert.equal((await only({ column: 'class', allowed: ['good', 'bad'] })).result.passed, true);
    const { result } = await only({ column: 'class', allowed: ['good'] });
    const bad = rowsWhere((r) => r.class === 'bad');
    assert.equal(bad.length, 300);
    assert.deepEqual(result.failingRows, { count: 300, first: bad.slice(0, 5) });
    assert.match(
      result.message!,
      /^column 'class' allowed \[good\]: 300 rows hold other values, such as 'bad' \(first rows /,
    );
  });

  it('checks uniqueness, naming the rows that repeat an earlier value', async () => {
    const ids = await writeDataset(
      ctx.artifacts,
      [{ name: 'id', type: 'integer' }],
      [[1], [2], [3], [2], [null], [null], [1]],
    );
    assert.equal((await only({ column: 'id', unique: true }, await small([1, 2, null, null, 3]))).result.passed, false);
    const { result } = await only({ column: 'id', unique: true }, ids);
    assert.deepEqual(result.failingRows, { count: 2, first: [4, 7] });
    assert.deepEqual(result.observed, { distinct: 3, repeatedValues: [2, 1] });
    assert.equal(result.message, "column 'id' unique: 2 rows repeat an earlier value, such as 2, 1 (rows 4, 7)");
    // credit_amount repeats in the real data; duration obviously does.
    assert.equal((await only({ column: 'duration', unique: true })).result.passed, false);
  });

  it('checks the row count', async () => {
    assert.equal((await only({ rowCount: { min: 500 } })).result.passed, true);
    const { result } = await only({ rowCount: { min: 500, max: 900 } });
    assert.equal(result.message, 'row count [500, 900]: the dataset has 1000 rows');
  });

  it('passes a numeric distribution of the test split against the training split', async () => {
    const { result } = await only({ column: 'credit_amount', distribution: { reference: train, maxPsi: 0.2 } }, test);
    assert.equal(result.passed, true);
    const observed = result.observed as { psi: number; referenceRows: number; bins: number };
    assert.ok(observed.psi >= 0 && observed.psi < 0.1, `PSI ${observed.psi}`);
    assert.equal(observed.referenceRows, 750);
    assert.equal(observed.bins, 10);
  });

  it('fails a numeric distribution that has shifted', async () => {
    const large = await writeDataset(
      ctx.artifacts,
      credit.columns,
      creditRows.filter((r) => (r.credit_amount as number) > 4000),
    );
    const { result } = await only({ column: 'credit_amount', distribution: { reference: train } }, large);
    assert.equal(result.passed, false);
    assert.match(
      result.message!,
      /^column 'credit_amount' distribution: PSI \d+\.\d{3} against the reference exceeds 0\.2$/,
    );
  });

  it('compares categories: passes the test split, fails a shifted subset', async () => {
    assert.equal((await only({ column: 'purpose', distribution: { reference: train } }, test)).result.passed, true);
    const noChecking = await writeDataset(
      ctx.artifacts,
      credit.columns,
      creditRows.filter((r) => r.checking_status === 'no checking'),
    );
    const { result } = await only(
      { column: 'checking_status', distribution: { reference: train, maxPsi: 0.25 } },
      noChecking,
    );
    assert.equal(result.passed, false);
    assert.ok((result.observed as { psi: number }).psi > 1);
  });

  it('fails a check on a column the dataset does not have, listing the columns', async () => {
    const { result } = await only({ column: 'agee', notNull: true });
    assert.match(result.message!, /^column 'agee' not null: no such column; columns are checking_status, duration, /);
  });
});

describe('data.quality failing a run', () => {
  it('fails with DataQualityFailed naming each failing check, rule and first rows', async () => {
    const ages = await small([30, 17, 45, 101, 12, 50]);
    await assert.rejects(
      run(ages, [{ column: 'age', min: 18, max: 100 }, { column: 'age', notNull: true }, { rowCount: { min: 10 } }]),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, DATA_QUALITY_FAILED);
        assert.equal(error.nonRetryable, true);
        assert.equal(
          error.message,
          "data quality failed: column 'age' range [18, 100]: 3 rows out of range (rows 2, 4, 5); row count >= 10: the dataset has 6 rows",
        );
        return true;
      },
    );
  });

  it('writes the report before failing, and the failure says where it is', async () => {
    const ages = await small([30, 17]);
    let details: QualityFailureDetails | undefined;
    await assert.rejects(
      run(ages, [
        { column: 'age', min: 18 },
        { column: 'age', notNull: true },
      ]),
      (error: unknown) => {
        details = (error as ApplicationFailure).details?.[0] as QualityFailureDetails;
        return true;
      },
    );
    assert.ok(details);
    assert.equal(await ctx.artifacts.has(details.report.uri), true);
    const report = await ctx.artifacts.readJson<QualityReport>(details.report.uri);
    assert.equal(report.kind, 'kiln.dataQuality');
    assert.equal(report.passed, false);
    assert.equal(report.dataset.sha256, ages.sha256);
    assert.deepEqual(
      report.checks.map((c) => [c.rule, c.passed]),
      [
        ['range', false],
        ['notNull', true],
      ],
    );
    assert.deepEqual(
      details.failures.map((f) => f.rows),
      [[2]],
    );
  });

  it("only reports with onFailure 'warn'", async () => {
    const out = await run(await small([30, 17]), [{ column: 'age', min: 18 }], 'warn');
    assert.equal(out.passed, false);
    assert.equal(out.failures[0]!.message, "column 'age' range >= 18: 1 row out of range (row 2)");
  });

  it("passes the brief's checks on the German credit data and returns no failures", async () => {
    const out = await run(credit, [
      { column: 'age', type: 'number' },
      { column: 'age', notNull: true },
      { column: 'age', min: 18, max: 100 },
      { column: 'class', allowed: ['good', 'bad'] },
      { rowCount: { min: 500 } },
      { column: 'credit_amount', distribution: { reference: train, maxPsi: 0.2 } },
    ]);
    assert.equal(out.passed, true);
    assert.deepEqual(out.failures, []);
    assert.equal((await ctx.artifacts.readJson<QualityReport>(out.report.uri)).checks.length, 6);
  });
});

describe('data.quality checks as declared', () => {
  it('splits one column check into a result per rule, in a fixed order', () => {
    const results = evaluate(
      [{ column: 'age', max: 100, notNull: true, type: 'integer', unique: true }],
      [{ name: 'age', type: 'integer' }],
      [[1], [1]],
    );
    assert.deepEqual(
      results.map((r) => [r.rule, r.passed]),
      [
        ['type', true],
        ['notNull', true],
        ['range', true],
        ['unique', false],
      ],
    );
  });

  it('rejects a column check without a rule, bounds the wrong way round and unknown keys', () => {
    assert.throws(() => qualityCheck.parse({ column: 'age' }));
    assert.throws(() => qualityCheck.parse({ column: 'age', min: 5, max: 1 }));
    assert.throws(() => qualityCheck.parse({ column: 'age', notnull: true }));
    assert.throws(() => qualityCheck.parse({ rowCount: {} }));
    const check: QualityCheck = qualityCheck.parse({
      column: 'age',
      distribution: {
        reference: {
          kind: 'dataset',
          uri: 'artifact:sha256:' + 'a'.repeat(64),
          sha256: 'a'.repeat(64),
          size: 1,
          rows: 1,
          columns: [],
        },
      },
    });
    assert.deepEqual(
      'distribution' in check && { maxPsi: check.distribution!.maxPsi, bins: check.distribution!.bins },
      { maxPsi: 0.2, bins: 10 },
    );
  });

  it('computes the population stability index', () => {
    const { psi: value } = psi(['a', 'b'], [50, 50], [90, 10]);
    assert.ok(Math.abs(value - (0.4 * Math.log(0.9 / 0.5) + -0.4 * Math.log(0.1 / 0.5))) < 1e-12);
    assert.equal(psi(['a', 'b'], [5, 5], [50, 50]).psi, 0);
  });

  it('takes a reference wired from another step in a pipeline', () => {
    const def = pipeline({ name: 'quality-wiring' }, (p) => {
      const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
      const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7 });
      const quality = p.step(checkQuality, {
        dataset: split.test,
        checks: [
          { column: 'age', min: 18, max: 100 },
          { rowCount: { min: 100 } },
          { column: 'credit_amount', distribution: { reference: split.train } },
        ],
      });
      // @ts-expect-error a report is not a dataset
      p.step(checkQuality, { dataset: quality.report, checks: [{ rowCount: { min: 1 } }] }, { id: 'again' });
    });
    const node = compile(def).nodes.find((n) => n.id === 'quality');
    const reference = JSON.stringify(node && 'inputs' in node ? node.inputs : null);
    assert.match(
      reference,
      /"reference":\{"kind":"source","source":\{"kind":"ref","node":"split","path":\["train"\]\}\}/,
    );
  });
});
