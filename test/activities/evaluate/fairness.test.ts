import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { testContext } from '../../support/step-context';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { loadModel } from '../../../activities/common/model/model';
import { predictProba } from '../../../activities/common/model/predict';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { checkGatesImpl } from '../../../activities/validate/gates';
import { fairnessReport } from '../../../activities/evaluate/fairness-report';
import {
  evaluateFairnessImpl,
  sensitiveValues,
  type FairnessReportArtifact,
} from '../../../activities/evaluate/fairness';
import { dataset, linearModel } from '../../fixtures/models';

type Ctx = Awaited<ReturnType<typeof testContext>>;

const columns = [
  { name: 'x', type: 'number' as const },
  { name: 'group', type: 'string' as const },
  { name: 'y', type: 'string' as const },
];
// The model selects x >= 0. Group a: 3 of 4 selected, TPR 2/2, FPR 1/2; group b: 1 of 4, TPR 1/2, FPR 0/2.
const rows = [
  { x: 1, group: 'a', y: 'yes' },
  { x: 2, group: 'a', y: 'yes' },
  { x: 1, group: 'a', y: 'no' },
  { x: -1, group: 'a', y: 'no' },
  { x: 1, group: 'b', y: 'yes' },
  { x: -1, group: 'b', y: 'yes' },
  { x: -2, group: 'b', y: 'no' },
  { x: -1, group: 'b', y: 'no' },
];

const failure = (type: string, pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ApplicationFailure, String(error));
  assert.equal(error.type, type);
  assert.equal(error.nonRetryable, true);
  assert.match(error.message, pattern);
  return true;
};

describe('evaluate.fairness', () => {
  let ctx: Ctx;
  before(async () => {
    ctx = await testContext();
  });
  after(async () => {
    await ctx.dispose();
  });

  it('reports the selection rates and parity measures of a case worked by hand', async () => {
    const model = await linearModel(ctx.artifacts);
    const data = await dataset(ctx.artifacts, columns, rows);
    const out = await evaluateFairnessImpl.run(
      { model, dataset: data, sensitive: 'group', threshold: 0.5, gates: [] },
      ctx,
    );
    assert.deepEqual(out.selectionRate, { a: 0.75, b: 0.25 });
    assert.deepEqual(out.groupRows, { a: 4, b: 4 });
    assert.equal(out.metrics.demographicParityDifference, 0.5);
    assert.equal(out.metrics.demographicParityRatio, 1 / 3);
    assert.equal(out.metrics.truePositiveRateDifference, 0.5);
    assert.equal(out.metrics.falsePositiveRateDifference, 0.5);
    assert.equal(out.metrics.equalizedOddsDifference, 0.5);
    assert.equal(out.metrics.disparateImpactRatio, 1 / 3);
    assert.equal(out.metrics.rows, 8);
    assert.deepEqual(out.undefinedMetrics, []);
    const report = await ctx.artifacts.readJson<FairnessReportArtifact>(out.report.uri);
    assert.equal(report.kind, 'kiln.fairness');
    assert.equal(report.disparateImpact.reference, 'a');
    assert.equal(report.disparateImpact.passes, false);
    assert.equal(report.model.positiveClass, 'yes');
  });

  it('fails the four-fifths gate with GateFailed naming the metric, its value and the bar', async () => {
    const model = await linearModel(ctx.artifacts);
    const data = await dataset(ctx.artifacts, columns, rows);
    await assert.rejects(
      evaluateFairnessImpl.run(
        {
          model,
          dataset: data,
          sensitive: 'group',
          threshold: 0.5,
          gates: [{ metric: 'demographic_parity_ratio', min: 0.8 }],
        },
        ctx,
      ),
      failure('GateFailed', /demographic_parity_ratio 0\.333 is below the gate 0\.800/),
    );
    const passing = await evaluateFairnessImpl.run(
      {
        model,
        dataset: data,
        sensitive: 'group',
        threshold: 0.5,
        gates: [{ metric: 'equalized_odds_difference', max: 0.5 }],
      },
      ctx,
    );
    assert.deepEqual(passing.outcomes, [{ metric: 'equalized_odds_difference', value: 0.5, max: 0.5, passed: true }]);
  });

  it('lets validate.gates gate its metrics by their snake_case names', async () => {
    const model = await linearModel(ctx.artifacts);
    const data = await dataset(ctx.artifacts, columns, rows);
    const out = await evaluateFairnessImpl.run(
      { model, dataset: data, sensitive: 'group', threshold: 0.5, gates: [] },
      ctx,
    );
    await assert.rejects(
      checkGatesImpl.run({ metrics: out.metrics, gates: [{ metric: 'equalized_odds_difference', max: 0.2 }] }, ctx),
      failure('GateFailed', /equalized_odds_difference 0\.500 is above the gate 0\.200/),
    );
  });

  it('reports a 0/0 ratio as 0, lists it as undefined, and fails a gate on it as NaN', async () => {
    const model = await linearModel(ctx.artifacts, { bias: -100 }); // selects nobody
    const data = await dataset(ctx.artifacts, columns, rows);
    const out = await evaluateFairnessImpl.run(
      { model, dataset: data, sensitive: 'group', threshold: 0.5, gates: [] },
      ctx,
    );
    assert.equal(out.metrics.demographicParityRatio, 0);
    assert.deepEqual(out.undefinedMetrics, ['demographic_parity_ratio', 'disparate_impact_ratio']);
    await assert.rejects(
      evaluateFairnessImpl.run(
        {
          model,
          dataset: data,
          sensitive: 'group',
          threshold: 0.5,
          gates: [{ metric: 'demographic_parity_ratio', min: 0.8 }],
        },
        ctx,
      ),
      failure('GateFailed', /demographic_parity_ratio is NaN/),
    );
  });
});

describe('sensitive group derivations', () => {
  const cols = [
    { name: 'personal_status', type: 'string' as const },
    { name: 'age', type: 'integer' as const },
  ];
  const people = [
    { personal_status: 'male single', age: 24 },
    { personal_status: 'female div/dep/mar', age: 25 },
    { personal_status: 'male mar/wid', age: 61 },
  ];

  it('derives sex from personal_status by pattern or by map', () => {
    const match = [
      { pattern: '^female', group: 'female' },
      { pattern: '^male', group: 'male' },
    ];
    assert.deepEqual(sensitiveValues(people, { column: 'personal_status', match }, cols), ['male', 'female', 'male']);
    const map = { 'male single': 'male', 'female div/dep/mar': 'female' };
    assert.deepEqual(sensitiveValues(people, { column: 'personal_status', map, other: 'other' }, cols), [
      'male',
      'female',
      'other',
    ]);
  });

  it('bins age at declared boundaries, lower bound inclusive', () => {
    assert.deepEqual(sensitiveValues(people, { column: 'age', bins: [25] }, cols), ['<25', '>=25', '>=25']);
    assert.deepEqual(sensitiveValues(people, { column: 'age', bins: [25, 60] }, cols), ['<25', '[25, 60)', '>=60']);
  });

  it('refuses a value no rule covers, naming the row, unless `other` is declared', () => {
    assert.throws(
      () => sensitiveValues(people, { column: 'personal_status', map: { 'male single': 'male' } }, cols),
      failure('InvalidData', /row 2 has personal_status = "female div\/dep\/mar", which no entry of `map` names/),
    );
    assert.throws(
      () => sensitiveValues(people, 'sex', cols),
      failure('InvalidData', /sensitive column 'sex' is not in the data/),
    );
  });
});

describe('evaluate.fairness on the German credit data', () => {
  let ctx: Ctx;
  before(async () => {
    ctx = await testContext();
  });
  after(async () => {
    await ctx.dispose();
  });

  it("reports by sex and by age group the same numbers as the fairness functions on the model's predictions", async () => {
    const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const { train, test } = await splitImpl.run(
      { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' },
      ctx,
    );
    const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'class' }, ctx);
    const { model } = await trainClassifierImpl.run(
      {
        train,
        transform,
        label: 'class',
        positiveClass: 'bad',
        architecture: 'logistic',
        epochs: 100,
        learningRate: 0.05,
        batchSize: 1024,
        l2: 0.001,
        seed: 7,
      },
      ctx,
    );

    const sex = await evaluateFairnessImpl.run(
      {
        model,
        dataset: test,
        threshold: 0.5,
        gates: [],
        sensitive: {
          column: 'personal_status',
          match: [
            { pattern: '^female', group: 'female' },
            { pattern: '^male', group: 'male' },
          ],
        },
      },
      ctx,
    );
    const age = await evaluateFairnessImpl.run(
      { model, dataset: test, threshold: 0.5, gates: [], sensitive: { column: 'age', bins: [25] } },
      ctx,
    );
    assert.deepEqual(Object.keys(sex.groupRows), ['female', 'male']);
    assert.deepEqual(Object.keys(age.groupRows), ['<25', '>=25']);
    assert.equal(sex.groupRows.female! + sex.groupRows.male!, 200);
    assert.equal(age.groupRows['<25']! + age.groupRows['>=25']!, 200);

    const spec = await loadModel(ctx.artifacts, model.uri);
    const { rows } = await loadDataset(ctx.artifacts, test);
    const yTrue = rows.map((r) => (r.class === 'bad' ? 1 : 0));
    const yPred = predictProba(spec, rows).map((p) => (p[1]! >= 0.5 ? 1 : 0));
    const bySex = fairnessReport(
      yTrue,
      yPred,
      rows.map((r) => (String(r.personal_status).startsWith('female') ? 'female' : 'male')),
    );
    const byAge = fairnessReport(
      yTrue,
      yPred,
      rows.map((r) => (Number(r.age) < 25 ? '<25' : '>=25')),
    );
    assert.equal(sex.metrics.demographicParityDifference, bySex.demographicParityDifference);
    assert.equal(sex.metrics.equalizedOddsDifference, bySex.equalizedOddsDifference);
    assert.equal(age.metrics.demographicParityRatio, byAge.demographicParityRatio);
    assert.equal(age.selectionRate['<25'], byAge.groups[0]!.selectionRate);
    console.log(
      `german-credit test split: sex ${JSON.stringify(sex.metrics)} ${JSON.stringify(sex.selectionRate)}; age ${JSON.stringify(age.metrics)} ${JSON.stringify(age.selectionRate)}`,
    );
  });
});
