import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { loadDataset, writeDataset, type Row } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { testContext } from '../../support/step-context';
import { writeVersion1Dataset } from '../../support/version1-dataset';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { exportOnnxImpl } from '../../../activities/model/export-onnx';
import { modelRef, type DatasetRef, type ModelRef } from '../../../activities/refs';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { loadModel, type ModelSpec } from '../../../activities/common/model/model';
import { predictProba } from '../../../activities/common/model/predict';
import { scoreModelImpl } from '../../../activities/model/score';
import { scoreModel } from '../../../activities/model/steps';

type Ctx = Awaited<ReturnType<typeof testContext>>;

const run = (ctx: Ctx, input: Parameters<typeof scoreModel.input.parse>[0]) =>
  scoreModelImpl.run(scoreModel.input.parse(input), ctx).then((out) => scoreModel.output.parse(out));

const invalid = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ApplicationFailure && error.type === 'InvalidData' && error.nonRetryable, String(error));
  assert.match(error.message, pattern);
  return true;
};

describe('model.score on the German credit holdout', () => {
  let ctx: Ctx;
  let holdout: DatasetRef;
  let rows: Row[];
  let model: ModelRef;
  let spec: ModelSpec;
  before(async () => {
    ctx = await testContext();
    const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
    const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);
    model = (
      await trainClassifierImpl.run(
        {
          train: split.train,
          transform,
          label: 'class',
          positiveClass: 'bad',
          architecture: 'mlp',
          hidden: [16, 8],
          epochs: 40,
          learningRate: 0.01,
          batchSize: 64,
          l2: 0.001,
          seed: 7,
        },
        ctx,
      )
    ).model;
    spec = await loadModel(ctx.artifacts, model.uri);
    holdout = split.test;
    rows = (await loadDataset(ctx.artifacts, holdout)).rows;
  });
  after(async () => {
    await ctx.dispose();
  });

  it("writes the input rows in order with prediction, p_good and p_bad, exactly the model's own predictions", async () => {
    ctx.heartbeats.length = 0;
    const { predictions, summary } = await run(ctx, { model, dataset: holdout });
    assert.deepEqual(predictions.columns.slice(-3), [
      { name: 'prediction', type: 'string' },
      { name: 'p_good', type: 'number' },
      { name: 'p_bad', type: 'number' },
    ]);
    assert.deepEqual(predictions.columns.slice(0, -3), holdout.columns);
    const scored = (await loadDataset(ctx.artifacts, predictions)).rows;
    assert.equal(scored.length, 200);
    const expected = predictProba(spec, rows);
    scored.forEach((row, i) => {
      for (const c of holdout.columns) assert.equal(row[c.name], rows[i]![c.name], `row ${i + 1}, ${c.name}`);
      assert.deepEqual([row.p_good, row.p_bad], expected[i]);
      assert.equal(row.prediction, expected[i]![1]! >= 0.5 ? 'bad' : 'good');
    });
    const bad = scored.filter((r) => r.prediction === 'bad').length;
    assert.deepEqual(summary, { rows: 200, byClass: { good: 200 - bad, bad } });
    assert.ok(bad > 10 && bad < 190, `${bad} rows predicted bad`);
    assert.deepEqual(ctx.heartbeats.at(-1), { rows: 200, of: 200 });
  });

  it('predicts the positive class at or above the declared threshold', async () => {
    const { predictions, summary } = await run(ctx, { model, dataset: holdout, threshold: 0.3 });
    const scored = (await loadDataset(ctx.artifacts, predictions)).rows;
    const bad = scored.filter((r) => (r.p_bad as number) >= 0.3).length;
    assert.deepEqual(
      scored.map((r) => r.prediction),
      scored.map((r) => ((r.p_bad as number) >= 0.3 ? 'bad' : 'good')),
    );
    assert.equal(summary.byClass!.bad, bad);
    assert.ok(bad > (await run(ctx, { model, dataset: holdout })).summary.byClass!.bad!);
  });

  it('agrees with engine onnx within 1e-5 on every held-out row, exported on the fly or as an exported artifact', async (t) => {
    const kiln = (await loadDataset(ctx.artifacts, (await run(ctx, { model, dataset: holdout })).predictions)).rows;
    const { onnx } = await exportOnnxImpl.run({ model }, ctx);
    for (const [how, input] of [
      ['exported on the fly', { model, dataset: holdout, engine: 'onnx' as const }],
      ['exported artifact', { model: onnx, dataset: holdout, engine: 'onnx' as const }],
    ] as const) {
      const out = await run(ctx, input);
      const scored = (await loadDataset(ctx.artifacts, out.predictions)).rows;
      assert.equal(scored.length, kiln.length);
      let worst = 0;
      scored.forEach((row, i) => {
        for (const c of ['p_good', 'p_bad']) {
          const diff = Math.abs((row[c] as number) - (kiln[i]![c] as number));
          worst = Math.max(worst, diff);
          assert.ok(diff <= 1e-5, `${how}: row ${i + 1} ${c} differs by ${diff}`);
        }
        if (Math.abs((kiln[i]!.p_bad as number) - 0.5) > 1e-5)
          assert.equal(row.prediction, kiln[i]!.prediction, `${how}: row ${i + 1}`);
        assert.equal(row.checking_status, rows[i]!.checking_status);
      });
      t.diagnostic(`${how}: ${scored.length} rows, max |Δp| between engines ${worst.toExponential(2)}`);
    }
  });

  it('fails on a value the transform rejects, naming the row and the column, with either engine', async () => {
    // Only a version 1 (JSON) dataset can hold text in a number column.
    const broken = rows.map((r, i) => (i === 2 ? { ...r, credit_amount: 'lots' } : r));
    const dataset = await writeVersion1Dataset(ctx.artifacts, holdout.columns, broken);
    for (const engine of ['kiln', 'onnx'] as const) {
      await assert.rejects(
        run(ctx, { model, dataset, engine }),
        invalid(/model\.score: row 3, column 'credit_amount': expected a number, got "lots"/),
      );
    }
  });

  it('names the row of a rejected value far past the first batch of rows, with either engine', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => rows[i % rows.length]!);
    const broken = many.map((r, i) => (i === 17_321 ? { ...r, age: 'old' } : r));
    const dataset = await writeVersion1Dataset(ctx.artifacts, holdout.columns, broken);
    for (const engine of ['kiln', 'onnx'] as const) {
      await assert.rejects(
        run(ctx, { model, dataset, engine }),
        invalid(/model\.score: row 17322, column 'age': expected a number, got "old"/),
      );
    }
  });

  it('refuses a dataset without a column the model reads, and an ONNX graph with engine kiln', async () => {
    const without = await writeDataset(
      ctx.artifacts,
      holdout.columns.filter((c) => c.name !== 'age'),
      rows,
    );
    await assert.rejects(
      run(ctx, { model, dataset: without }),
      invalid(/the dataset has no column 'age', which the model reads/),
    );
    const { onnx } = await exportOnnxImpl.run({ model }, ctx);
    await assert.rejects(
      run(ctx, { model: onnx, dataset: holdout }),
      invalid(/is an ONNX graph, which only engine 'onnx' can run/),
    );
  });
});

describe('model.score for multiclass and regression', () => {
  let ctx: Ctx;
  before(async () => {
    ctx = await testContext();
  });
  after(async () => {
    await ctx.dispose();
  });

  it('predicts the most probable of three classes with one probability column per class', async () => {
    const columns = [
      { name: 'x', type: 'number' as const },
      { name: 'y', type: 'string' as const },
    ];
    const train = await writeDataset(
      ctx.artifacts,
      columns,
      Array.from({ length: 90 }, (_, i) => [(i % 3) * 4 + (i % 7) / 7, ['a', 'b', 'c'][i % 3]!]),
    );
    const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y' }, ctx);
    const { model } = await trainClassifierImpl.run(
      {
        train,
        transform,
        label: 'y',
        architecture: 'mlp',
        hidden: [8],
        epochs: 150,
        learningRate: 0.05,
        batchSize: 1000,
        seed: 1,
      },
      ctx,
    );
    const dataset = await writeDataset(
      ctx.artifacts,
      [{ name: 'x', type: 'number' }],
      [[0.2], [4.5], [8.1], [3.9], [7.7]],
    );
    const { predictions, summary } = await run(ctx, { model, dataset, threshold: 0.99 });
    const scored = (await loadDataset(ctx.artifacts, predictions)).rows;
    assert.deepEqual(
      predictions.columns.map((c) => c.name),
      ['x', 'prediction', 'p_a', 'p_b', 'p_c'],
    );
    assert.deepEqual(
      scored.map((r) => r.prediction),
      ['a', 'b', 'c', 'b', 'c'],
    );
    for (const r of scored) assert.ok(Math.abs((r.p_a as number) + (r.p_b as number) + (r.p_c as number) - 1) < 1e-9);
    assert.deepEqual(summary, { rows: 5, byClass: { a: 1, b: 2, c: 2 } });
  });

  it("writes a regressor's value as the prediction, without probabilities; engine onnx refuses it", async () => {
    const spec: ModelSpec = {
      kind: 'kiln.model',
      version: 1,
      task: 'regression',
      architecture: 'linear',
      label: 'wage',
      classes: [],
      transform: {
        sha256: '0'.repeat(64),
        spec: {
          kind: 'kiln.transform',
          version: 1,
          label: 'wage',
          features: [{ name: 'x', type: 'numeric', mean: 1, std: 2 }],
        },
      },
      layers: [{ weights: [[3]], bias: [10], activation: 'linear' }],
      backend: 'test',
      seed: 0,
      params: { hidden: [], epochs: 0, learningRate: 0, batchSize: 1, l2: 0 },
    };
    const model = modelRef.parse({
      kind: 'model',
      ...(await ctx.artifacts.putJson(spec)),
      task: 'regression',
      architecture: 'linear',
      label: 'wage',
      classes: [],
      backend: 'test',
    });
    const dataset = await writeDataset(ctx.artifacts, [{ name: 'x', type: 'number' }], [[1], [5], [null]]);
    const { predictions, summary } = await run(ctx, { model, dataset });
    assert.deepEqual(predictions.columns, [
      { name: 'x', type: 'number' },
      { name: 'prediction', type: 'number' },
    ]);
    assert.deepEqual(
      (await loadDataset(ctx.artifacts, predictions)).rows.map((r) => r.prediction),
      [10, 16, 10],
    );
    assert.deepEqual(summary, { rows: 3 });
    await assert.rejects(
      run(ctx, { model, dataset, engine: 'onnx' }),
      invalid(/engine 'onnx' cannot run model .*only binary and multiclass models export; score it with engine 'kiln'/),
    );
  });
});
