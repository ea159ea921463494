import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadDataset, writeDataset, type Row } from '../../../activities/common/dataset/dataset';
import { mulberry32 } from '../../../activities/common/random';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { splitImpl } from '../../../activities/data/split';
import { testContext } from '../../support/step-context';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { loadModel, type ModelSpec } from '../../../activities/common/model/model';
import { predictProba } from '../../../activities/common/model/predict';
import type { DatasetRef, TransformRef } from '../../../activities/refs';
import { exportOnnxImpl } from '../../../activities/model/export-onnx';
import { importOnnxImpl } from '../../../activities/model/import-onnx';
import { openOnnx } from '../../../activities/model/onnx/session';
import { exportOnnx, importOnnx } from '../../../activities/model/steps';
import { type OnnxRef, type OnnxSignature } from '../../../activities/refs';

// The acceptance test of the exporter: on German credit's held-out rows, onnxruntime-node running
// the exported graph from raw values must give the trainer's probabilities within 1e-5.

const TOLERANCE = 1e-5;

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let data: { train: DatasetRef; transform: TransformRef; holdout: Row[] };

before(async () => {
  ctx = await testContext();
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);
  data = { train: split.train, transform, holdout: (await loadDataset(ctx.artifacts, split.test)).rows };
});
after(async () => {
  await ctx.dispose();
});

/** Held-out rows, plus copies with an unseen category, missing numbers, a missing category, numeric text and nothing at all. */
function holdoutWithInjections(): Row[] {
  const [a, b, c, d] = data.holdout as [Row, Row, Row, Row];
  const allMissing = Object.fromEntries(Object.keys(a).map((k) => [k, null]));
  return [
    ...data.holdout,
    { ...a, purpose: 'time machine' },
    { ...b, credit_amount: null },
    { ...c, age: null, duration: null, checking_status: null },
    { ...d, credit_amount: String(d.credit_amount), housing: 'castle', personal_status: null },
    allMissing,
  ];
}

async function trainAndExport(input: {
  architecture: 'logistic' | 'mlp';
  hidden?: number[];
  epochs: number;
  learningRate: number;
  batchSize: number;
}) {
  let started = performance.now();
  const trained = await trainClassifierImpl.run(
    {
      train: data.train,
      transform: data.transform,
      label: 'class',
      positiveClass: 'bad',
      l2: 0.001,
      seed: 7,
      ...input,
    },
    ctx,
  );
  const trainSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const exported = exportOnnx.output.parse(await exportOnnxImpl.run({ model: trained.model }, ctx));
  const exportMs = performance.now() - started;
  return { model: await loadModel(ctx.artifacts, trained.model.uri), ...exported, trainSeconds, exportMs };
}

async function parity(model: ModelSpec, onnx: OnnxRef, t: { diagnostic(message: string): void }) {
  const rows = holdoutWithInjections();
  const scorer = await openOnnx(ctx.artifacts, onnx);
  try {
    const started = performance.now();
    const actual = await scorer.predictProba(rows);
    const scoreMs = performance.now() - started;
    const labels = (await scorer.run(rows)).label!.data as string[];
    const expected = predictProba(model, rows);
    let worst = { diff: 0, row: -1 };
    expected.forEach((p, i) =>
      p.forEach((v, k) => {
        const diff = Math.abs(v - actual[i]![k]!);
        if (diff > worst.diff) worst = { diff, row: i };
      }),
    );
    t.diagnostic(
      `${model.architecture}: ${rows.length} rows (${data.holdout.length} held out + ${rows.length - data.holdout.length} injected), max |Δp| ${worst.diff.toExponential(2)} at row ${worst.row}, batch scored in ${scoreMs.toFixed(1)} ms`,
    );
    assert.ok(worst.diff <= TOLERANCE, `onnxruntime and the trainer differ by ${worst.diff} on row ${worst.row}`);
    assert.deepEqual(
      labels,
      expected.map((p) => (p[1]! >= 0.5 ? 'bad' : 'good')),
    );
    return { rows: rows.length, maxDiff: worst.diff };
  } finally {
    await scorer.close();
  }
}

describe('ONNX parity on German credit', () => {
  it('a logistic model agrees with the trainer within 1e-5 on every held-out row, injected ones included', async (t) => {
    const { model, onnx, signature, trainSeconds, exportMs } = await trainAndExport({
      architecture: 'logistic',
      epochs: 200,
      learningRate: 0.05,
      batchSize: 1024,
    });
    t.diagnostic(
      `logistic: trained in ${trainSeconds.toFixed(2)} s, exported (with self-check) in ${exportMs.toFixed(0)} ms, ${onnx.size} bytes`,
    );
    assert.equal(signature.inputs.length, 20);
    assert.deepEqual(signature.classes, ['good', 'bad']);
    await parity(model, onnx, t);
  });

  it('an MLP agrees with the trainer within 1e-5 on every held-out row, injected ones included', async (t) => {
    const { model, onnx, trainSeconds, exportMs } = await trainAndExport({
      architecture: 'mlp',
      hidden: [16, 8],
      epochs: 40,
      learningRate: 0.01,
      batchSize: 64,
    });
    t.diagnostic(
      `mlp [16, 8]: trained in ${trainSeconds.toFixed(2)} s, exported (with self-check) in ${exportMs.toFixed(0)} ms, ${onnx.size} bytes`,
    );
    assert.deepEqual(
      model.layers.map((l) => l.activation),
      ['relu', 'relu', 'sigmoid'],
    );
    await parity(model, onnx, t);
  });
});

describe('ONNX parity on German credit with blanked cells, imputed and bucketized', () => {
  const BLANKED = ['duration', 'credit_amount', 'age', 'checking_status', 'purpose', 'savings_status', 'housing'];
  let blanked: { train: DatasetRef; transform: TransformRef; holdout: Row[]; missing: number };

  before(async () => {
    // Blank about 8% of the cells of a few numeric and categorical columns, from a seed.
    const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const { columns, rows } = await loadDataset(ctx.artifacts, raw.dataset);
    const random = mulberry32(23);
    let missing = 0;
    const holed = rows.map((row) => {
      const copy = { ...row };
      for (const c of BLANKED)
        if (random() < 0.08) {
          copy[c] = null;
          missing++;
        }
      return copy;
    });
    const dataset = await writeDataset(ctx.artifacts, columns, holed);
    const split = await splitImpl.run({ dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
    const { transform } = await fitFeaturesImpl.run(
      {
        dataset: split.train,
        label: 'class',
        impute: {
          duration: 'median',
          credit_amount: 'mean',
          age: { constant: 35 },
          checking_status: 'mostFrequent',
          purpose: { constant: 'unknown' },
          savings_status: 'mostFrequent',
        },
        bucketize: { age: { quantiles: 5 }, duration: { boundaries: [12, 24, 36] } },
      },
      ctx,
    );
    blanked = { train: split.train, transform, holdout: (await loadDataset(ctx.artifacts, split.test)).rows, missing };
  });

  for (const input of [
    { architecture: 'logistic' as const, epochs: 200, learningRate: 0.05, batchSize: 1024 },
    { architecture: 'mlp' as const, hidden: [16, 8], epochs: 40, learningRate: 0.01, batchSize: 64 },
  ]) {
    it(`a ${input.architecture} model agrees with the trainer within 1e-5 on every held-out row`, async (t) => {
      const trained = await trainClassifierImpl.run(
        {
          train: blanked.train,
          transform: blanked.transform,
          label: 'class',
          positiveClass: 'bad',
          l2: 0.001,
          seed: 7,
          ...input,
        },
        ctx,
      );
      const model = await loadModel(ctx.artifacts, trained.model.uri);
      const kinds = Object.fromEntries(
        model.transform.spec.features.map((f) => [
          f.name,
          `${f.type}${'impute' in f && f.impute ? `+${f.impute.strategy}` : ''}`,
        ]),
      );
      assert.deepEqual(
        [kinds.age, kinds.duration, kinds.credit_amount, kinds.purpose, kinds.housing],
        ['bucketized+constant', 'bucketized+median', 'numeric+mean', 'categorical+constant', 'categorical'],
      );
      const { onnx } = await exportOnnxImpl.run({ model: trained.model }, ctx);
      const rows = [...blanked.holdout, Object.fromEntries(Object.keys(blanked.holdout[0]!).map((k) => [k, null]))];
      const withBlanks = rows.filter((r) => BLANKED.some((c) => r[c] === null)).length;
      const scorer = await openOnnx(ctx.artifacts, onnx);
      try {
        const actual = await scorer.predictProba(rows);
        const expected = predictProba(model, rows);
        let worst = { diff: 0, row: -1 };
        expected.forEach((p, i) =>
          p.forEach((v, k) => {
            const diff = Math.abs(v - actual[i]![k]!);
            if (diff > worst.diff) worst = { diff, row: i };
          }),
        );
        t.diagnostic(
          `${input.architecture}: ${blanked.missing} cells blanked in all; ${rows.length} held-out rows, ${withBlanks} with blanks; max |Δp| ${worst.diff.toExponential(2)} at row ${worst.row}`,
        );
        assert.ok(withBlanks > 50, `only ${withBlanks} held-out rows have blanks`);
        assert.ok(worst.diff <= TOLERANCE, `onnxruntime and the trainer differ by ${worst.diff} on row ${worst.row}`);
      } finally {
        await scorer.close();
      }
    });
  }
});

describe('model.importOnnx', () => {
  let file: string;
  let exported: { onnx: OnnxRef; signature: OnnxSignature };
  before(async () => {
    const trained = await trainClassifierImpl.run(
      {
        train: data.train,
        transform: data.transform,
        label: 'class',
        architecture: 'logistic',
        epochs: 20,
        learningRate: 0.05,
        batchSize: 1024,
        seed: 1,
      },
      ctx,
    );
    exported = await exportOnnxImpl.run({ model: trained.model }, ctx);
    file = join(ctx.artifacts.root, 'credit.onnx');
    await writeFile(file, await ctx.artifacts.read(exported.onnx.uri));
  });

  it('registers the exported file under its declared signature, as the same artifact', async () => {
    const declared: OnnxSignature = {
      inputs: exported.signature.inputs.map(({ name, type }) => ({ name, type, shape: [null, 1] })),
      outputs: [
        { name: 'probabilities', type: 'float32', shape: [null, 2] },
        { name: 'label', type: 'string' },
      ],
      classes: exported.signature.classes!,
    };
    const imported = importOnnx.output.parse(
      await importOnnxImpl.run(importOnnx.input.parse({ path: file, signature: declared }), ctx),
    );
    assert.equal(imported.onnx.sha256, exported.onnx.sha256);
    assert.deepEqual(imported.signature, exported.signature);
    const scorer = await openOnnx(ctx.artifacts, imported.onnx);
    try {
      assert.equal((await scorer.predictProba(data.holdout.slice(0, 3))).length, 3);
    } finally {
      await scorer.close();
    }
  });

  it('refuses a signature whose input type differs, naming the input', async () => {
    const declared = structuredClone(exported.signature);
    declared.inputs.find((i) => i.name === 'age')!.type = 'string';
    await assert.rejects(
      importOnnxImpl.run({ path: file, signature: declared }, ctx),
      /input 'age': declared string, the model has float32/,
    );
  });

  it('refuses a signature that names an input the model lacks and leaves one out', async () => {
    const declared = structuredClone(exported.signature);
    declared.inputs = declared.inputs.map((i) => (i.name === 'purpose' ? { ...i, name: 'loan_purpose' } : i));
    await assert.rejects(importOnnxImpl.run({ path: file, signature: declared }, ctx), (error: Error) => {
      assert.match(error.message, /input 'loan_purpose' is declared but the model has no such input/);
      assert.match(error.message, /input 'purpose' of the model is not declared/);
      return true;
    });
  });

  it('refuses a declared output shape the model does not have', async () => {
    const declared = structuredClone(exported.signature);
    declared.outputs[0]!.shape = [null, 3];
    await assert.rejects(
      importOnnxImpl.run({ path: file, signature: declared }, ctx),
      /output 'probabilities': declared shape \[\?, 3\], the model has \[N, 2\]/,
    );
  });

  it('refuses a file that is not an ONNX model, and a path with no file', async () => {
    const text = join(ctx.artifacts.root, 'not-a-model.onnx');
    await writeFile(text, 'checking_status,duration\n');
    await assert.rejects(
      importOnnxImpl.run({ path: text, signature: exported.signature }, ctx),
      /not-a-model\.onnx' is not a model onnxruntime .* can load/,
    );
    await assert.rejects(
      importOnnxImpl.run({ path: join(ctx.artifacts.root, 'absent.onnx'), signature: exported.signature }, ctx),
      /there is no \.onnx file at/,
    );
  });
});
