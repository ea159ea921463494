import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../../../activities/common/random';
import { averagePrecision } from '../../../activities/common/metrics/calibration';
import { rocAuc } from '../../../activities/common/metrics/classification';
import {
  robustness,
  robustnessMetricValues,
  type RobustnessInput,
} from '../../../activities/evaluate/robustness-report';
import { robustnessColumns } from '../../../activities/evaluate/robustness-columns';
import { cellAt } from '../../../activities/common/model/scored-rows';
import type { ColumnarDataset, ColumnValues } from '../../../activities/common/dataset/dataset';

type Applicant = { income: number | null; age: number | null; region: string | null };

// A fixed "model" over raw records: it imputes as a fitted transform would (income 50, age 40,
// region 'unknown') and scores with a logistic function, so missing values move its scores.
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const regionEffect: Record<string, number> = { north: 0.5, south: -0.5, unknown: 0 };
const score = (r: Applicant) =>
  sigmoid(((r.income ?? 50) - 50) / 10 + ((r.age ?? 40) - 40) / 20 + regionEffect[r.region ?? 'unknown']!);

function applicants(n: number): { rows: Applicant[]; labels: number[] } {
  const random = mulberry32(7);
  const rows: Applicant[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = { income: 20 + 60 * random(), age: 20 + 50 * random(), region: random() < 0.5 ? 'north' : 'south' };
    rows.push(row);
    labels.push(random() < score(row) ? 1 : 0);
  }
  return { rows, labels };
}

const data = applicants(400);
const base = (seed = 1): RobustnessInput<Applicant> => ({
  rows: data.rows,
  labels: data.labels,
  predict: (rows) => rows.map(score),
  std: { income: 17, age: 14 },
  categorical: ['region'],
  random: mulberry32(seed),
});

describe('robustness', () => {
  it('is deterministic for a seed and differs for another', async () => {
    const a = await robustness(base(1));
    const b = await robustness(base(1));
    const c = await robustness(base(2));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.noise, c.noise);
  });

  it('perturbs only numeric columns, by Gaussian noise of 5% of their std', async () => {
    const seen: Applicant[][] = [];
    await robustness({ ...base(), predict: (rows) => (seen.push(rows), rows.map(score)) });
    const noisy = seen[1]!;
    const shifts = noisy.map((r, i) => (r.income! - data.rows[i]!.income!) / 17);
    assert.deepEqual(
      noisy.map((r) => r.region),
      data.rows.map((r) => r.region),
    );
    const mean = shifts.reduce((a, b) => a + b, 0) / shifts.length;
    const sd = Math.sqrt(shifts.reduce((a, b) => a + (b - mean) ** 2, 0) / shifts.length);
    assert.ok(Math.abs(mean) < 0.01, `mean shift ${mean}`);
    assert.ok(sd > 0.045 && sd < 0.055, `shift sd ${sd} should be about 0.05`);
    assert.equal(data.rows[0]!.income, applicants(400).rows[0]!.income, 'the caller rows are not modified');
  });

  it('leaves missing numeric cells missing under noise', async () => {
    const rows = data.rows.map((r, i) => (i % 2 ? { ...r, income: null } : r));
    const seen: Applicant[][] = [];
    await robustness({ ...base(), rows, predict: (batch) => (seen.push(batch), batch.map(score)) });
    assert.ok(seen[1]!.every((r, i) => (i % 2 ? r.income === null : typeof r.income === 'number')));
  });

  it('sets exactly the declared fraction of cells to null, across numeric and categorical columns', async () => {
    const seen: Applicant[][] = [];
    const report = await robustness({
      ...base(),
      missing: { fraction: 0.25 },
      predict: (rows) => (seen.push(rows), rows.map(score)),
    });
    const holed = seen[2]!;
    const nulls = holed.reduce((n, r) => n + [r.income, r.age, r.region].filter((v) => v === null).length, 0);
    assert.equal(nulls, 300);
    assert.equal(report.missing.cells, 300);
    assert.deepEqual(report.missing.columns, ['age', 'income', 'region']);
    assert.ok(holed.some((r) => r.region === null) && holed.some((r) => r.income === null));
  });

  it('reports flip rate and metric drop, positive when the model gets worse', async () => {
    // A model that inverts its score when income is missing: every row flips at fraction 1.
    type WithId = Applicant & { id: number };
    const rows: WithId[] = data.rows.map((r, id) => ({ ...r, id }));
    const report = await robustness<WithId>({
      rows,
      labels: data.labels,
      std: { income: 17, age: 14 },
      random: mulberry32(1),
      missing: { fraction: 1, columns: ['income'] },
      predict: (batch) => batch.map((r) => (r.income === null ? 1 - score(rows[r.id]!) : score(r))),
    });
    assert.equal(report.missing.flipRate, 1);
    assert.equal(report.missing.cells, 400);
    const clean = report.clean.accuracy!;
    assert.ok(Math.abs(report.missing.drop.accuracy! - (clean - report.missing.metrics.accuracy!)) < 1e-12);
    const zero = await robustness({ ...base(), std: { income: 0, age: 0 } });
    assert.equal(zero.noise.flipRate, 0);
    assert.deepEqual(zero.noise.drop, { accuracy: 0, roc_auc: 0 });
  });

  it('defaults to accuracy and ROC AUC, both higher-is-better', async () => {
    const report = await robustness(base());
    assert.deepEqual(Object.keys(report.clean), ['accuracy', 'roc_auc']);
    assert.ok(report.clean.roc_auc! > 0.7);
    assert.ok(report.noise.flipRate! < 0.1, 'noise of 5% of a std flips few predictions');
  });

  it('finds the worst slice of a categorical column, ignoring slices below the minimum size', async () => {
    const region = data.rows.map((r, i) => (i < 5 ? 'tiny' : r.region));
    const report = await robustness({
      ...base(),
      slices: [{ column: 'region', kind: 'categorical', values: region }],
      worstBy: 'accuracy',
    });
    const [slices] = report.slices;
    assert.deepEqual(
      slices!.slices.map((s) => s.slice),
      ['north', 'south', 'tiny'],
    );
    assert.equal(
      slices!.slices.reduce((n, s) => n + s.count, 0),
      400,
    );
    const eligible = slices!.slices.filter((s) => s.slice !== 'tiny');
    const worst = eligible.reduce((a, b) => (b.metrics.accuracy! < a.metrics.accuracy! ? b : a));
    assert.equal(report.worstSlice, slices!.worst);
    assert.equal(report.worstSlice!.slice, worst.slice);
  });

  it('records, rather than throws, a metric that is undefined on a slice', async () => {
    const labels = data.labels.map((y, i) => (data.rows[i]!.region === 'south' ? 0 : y));
    const report = await robustness({
      ...base(),
      labels,
      metrics: {
        roc_auc: { fn: rocAuc, higherIsBetter: true },
        average_precision: { fn: averagePrecision, higherIsBetter: true },
      },
      slices: [{ column: 'region', kind: 'categorical' }],
    });
    const south = report.slices[0]!.slices.find((s) => s.slice === 'south')!;
    assert.ok(Number.isNaN(south.metrics.roc_auc) && Number.isNaN(south.metrics.average_precision));
    assert.match(south.errors!.average_precision!, /no positive label/);
    assert.equal(report.worstBy, 'roc_auc');
    assert.equal(report.worstSlice!.slice, 'north');
  });

  it('slices a numeric column into quantile bins, missing values apart', async () => {
    const rows = data.rows.map((r, i) => ({ ...r, age: i < 100 ? null : i }));
    const report = await robustness({
      ...base(),
      rows,
      slices: [{ column: 'age', kind: 'quantile', bins: 3 }],
      minSliceSize: 1,
    });
    const slices = report.slices[0]!.slices;
    assert.deepEqual(
      slices.map((s) => s.slice),
      ['[100, 199.667)', '[199.667, 299.333)', '[299.333, 399]', '(missing)'],
    );
    assert.deepEqual(slices[2]!.range, [100 + 299 * (2 / 3), 399]);
    assert.deepEqual(
      slices.map((s) => s.count),
      [100, 100, 100, 100],
    );
  });

  it('works on numeric feature vectors, with NaN as the missing value', async () => {
    const vectors = data.rows.map((r) => [r.income!, r.age!]);
    const seen: number[][][] = [];
    const report = await robustness<number[]>({
      rows: vectors,
      labels: data.labels,
      std: { 0: 17, 1: 14 },
      random: mulberry32(3),
      missing: { fraction: 0.5 },
      predict: (rows) => (
        seen.push(rows),
        rows.map(([income, age]) =>
          score({
            income: Number.isNaN(income!) ? null : income!,
            age: Number.isNaN(age!) ? null : age!,
            region: null,
          }),
        )
      ),
    });
    assert.equal(seen[2]!.flat().filter(Number.isNaN).length, 400);
    assert.deepEqual(report.noise.columns, ['0', '1']);
    assert.notDeepEqual(seen[1]![0], vectors[0]);
  });

  it('measures a regression model with MAE, RMSE and R2 and no flip rate', async () => {
    const target = data.rows.map((r) => r.income! * 2);
    const report = await robustness({
      ...base(),
      task: 'regression',
      labels: target,
      predict: (rows) => rows.map((r) => (r.income ?? 50) * 2),
    });
    assert.equal(report.noise.flipRate, null);
    assert.equal(report.clean.mae, 0);
    assert.ok(report.noise.drop.mae! > 0 && report.noise.drop.r2! > 0);
  });

  it('says the model must impute when it returns NaN for missing values', async () => {
    await assert.rejects(
      robustness({ ...base(), predict: (rows) => rows.map((r) => (r.income === null ? Number.NaN : score(r))) }),
      /predict returned NaN for row \d+ under injected missing values: the model \(its transform\) must impute/,
    );
  });

  it('names a column the rows do not have', async () => {
    await assert.rejects(
      robustness({ ...base(), std: { salary: 1 } }),
      /numeric column 'salary' is not in the rows, which have income, age, region/,
    );
  });

  it('gives the same report over columns as over rows, to the bit, for the same seed', async () => {
    // Some cells missing to begin with: null in rows, NaN in a number column.
    const rows = data.rows.map((r, i) => ({
      ...r,
      income: i % 11 === 0 ? null : r.income,
      region: i % 13 === 0 ? null : r.region,
    }));
    const columns: ColumnarDataset = {
      columns: [
        { name: 'income', type: 'number' },
        { name: 'age', type: 'number' },
        { name: 'region', type: 'string' },
      ],
      rows: rows.length,
      values: new Map<string, ColumnValues>([
        ['income', Float64Array.from(rows, (r) => r.income ?? Number.NaN)],
        ['age', Float64Array.from(rows, (r) => r.age!)],
        ['region', rows.map((r) => r.region)],
      ]),
    };
    const scoreColumns = (d: ColumnarDataset) =>
      Array.from({ length: d.rows }, (_, i) =>
        score({
          income: cellAt(d.values.get('income')!, i) as number | null,
          age: cellAt(d.values.get('age')!, i) as number | null,
          region: cellAt(d.values.get('region')!, i) as string | null,
        }),
      );
    const slices = [
      { column: 'region', kind: 'categorical' as const },
      { column: 'income', kind: 'quantile' as const, bins: 3 },
    ];
    const options = { ...base(4), noise: { scale: 0.4 }, missing: { fraction: 0.2 }, slices };
    const byRows = await robustness({ ...options, rows, predict: (batch) => batch.map(score) });
    const byColumns = await robustnessColumns({
      ...options,
      random: mulberry32(4),
      data: columns,
      predict: scoreColumns,
    });
    assert.deepEqual(byColumns, byRows);
    assert.ok(byRows.noise.flipRate! > 0 && byRows.missing.flipRate! > 0);
    await assert.rejects(
      robustnessColumns({
        ...options,
        std: { wealth: 1 },
        data: columns,
        predict: scoreColumns,
        columnNames: ['income', 'age', 'region', 'label'],
      }),
      /numeric column 'wealth' is not in the rows, which have income, age, region, label/,
    );
  });

  it('names its measures for gates', async () => {
    const report = await robustness({ ...base(), slices: [{ column: 'region', kind: 'categorical' }] });
    const values = robustnessMetricValues(report);
    assert.deepEqual(Object.keys(values).sort(), [
      'missing_drop_accuracy',
      'missing_drop_roc_auc',
      'missing_flip_rate',
      'missing_mean_abs_change',
      'noise_drop_accuracy',
      'noise_drop_roc_auc',
      'noise_flip_rate',
      'noise_mean_abs_change',
      'worst_slice_accuracy',
    ]);
  });
});
