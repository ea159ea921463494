import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportOnnxImpl } from '../../activities/model/export-onnx';
import { exportOnnx } from '../../activities/model/steps';
import { loadPredictor, type Predictor, type VersionArtifact } from '../../serving';
import { testContext } from '../support/step-context';
import { features, trainCreditModel, type CreditModel } from './credit-model';

// Parity of the two engines the server can run a version with: Kiln's forward pass and
// onnxruntime-node on the exported graph (preprocessing inside), on German credit's held-out rows,
// for each kind of model; and an ONNX artifact served as such.

const TOLERANCE = 1e-5;

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
const models: Partial<Record<'logistic' | 'mlp', CreditModel>> = {};

before(async () => {
  ctx = await testContext();
  models.logistic = await trainCreditModel(ctx);
  models.mlp = await trainCreditModel(ctx, { architecture: 'mlp', hidden: [16, 8] });
});
after(async () => {
  await ctx.dispose();
});

async function artifactOf(credit: CreditModel): Promise<VersionArtifact> {
  return {
    model: 'credit-risk',
    version: 1,
    kind: 'model',
    sha256: credit.model.sha256,
    signature: null,
    bytes: await ctx.artifacts.read(credit.model.uri),
  };
}

function maxDifference(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}

for (const kind of ['logistic', 'mlp'] as const) {
  describe(`a ${kind} model`, () => {
    it('gets the same probabilities from both engines, within 1e-5, one row or all at once', async () => {
      const credit = models[kind]!;
      const artifact = await artifactOf(credit);
      const kiln = await loadPredictor(artifact, 'kiln');
      const onnx = await loadPredictor(artifact, 'onnx');
      try {
        assert.deepEqual([kiln.engine, onnx.engine], ['kiln', 'onnx']);
        const rows = [...credit.holdout.map(features), { ...features(credit.holdout[0]!), age: null, purpose: null }];
        const all = await kiln.predict(rows);
        assert.ok(maxDifference(all, await onnx.predict(rows)) < TOLERANCE);
        for (const row of rows.slice(0, 20))
          assert.ok(maxDifference(await kiln.predict([row]), await onnx.predict([row])) < TOLERANCE);
      } finally {
        await Promise.all([kiln.close(), onnx.close()]);
      }
    });
  });
}

it('serves an ONNX artifact with onnxruntime, as its registered signature describes it', async () => {
  const credit = models.mlp!;
  const { onnx, signature } = exportOnnx.output.parse(await exportOnnxImpl.run({ model: credit.model }, ctx));
  const graph: Predictor = await loadPredictor({
    model: 'credit-risk',
    version: 2,
    kind: 'onnx',
    sha256: onnx.sha256,
    signature: { format: 'onnx', ...signature },
    bytes: await ctx.artifacts.read(onnx.uri),
  });
  const kiln = await loadPredictor(await artifactOf(credit), 'kiln');
  try {
    assert.equal(graph.engine, 'onnx');
    assert.deepEqual(graph.signature.classes, credit.spec.classes);
    assert.equal(graph.signature.features.find((f) => f.name === 'purpose')?.type, 'category');
    const rows = credit.holdout.map(features);
    assert.ok(maxDifference(await graph.predict(rows), await kiln.predict(rows)) < TOLERANCE);
  } finally {
    await Promise.all([graph.close(), kiln.close()]);
  }
});
