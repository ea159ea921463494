import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeDataset } from '../../../activities/common/dataset/dataset';
import { loadModel } from '../../../activities/common/model/model';
import { mulberry32 } from '../../../activities/common/random';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import type { DatasetRef, TransformRef } from '../../../activities/refs';
import { trainClassifierImpl } from '../../../activities/train/classifier';
import { trainLogistic } from '../../../activities/train/logistic';
import { testContext } from '../../support/step-context';

// train.classifier's default solver for logistic regression: full-batch L-BFGS on a pool thread.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let binary: { train: DatasetRef; transform: TransformRef };

const logistic = {
  label: 'y',
  architecture: 'logistic' as const,
  epochs: 100,
  learningRate: 0.1,
  batchSize: 32,
  l2: 0.001,
  seed: 1,
};

type Progress = { iteration: number; maxIterations: number; loss: number };
const progressOf = (heartbeats: unknown[]) =>
  heartbeats.filter((h): h is Progress => (h as Partial<Progress> | undefined)?.iteration !== undefined);

type Fit = { iterations: number; converged: boolean };
const fits: Fit[] = [];
/** What the last L-BFGS fit logged: its iteration count and whether it converged. */
const lastFit = () => fits.at(-1)!;

before(async () => {
  ctx = await testContext();
  ctx.log = (message, fields) => {
    if (message === 'converged') {
      const { iterations, converged } = fields as Fit;
      fits.push({ iterations, converged });
    }
  };
  const random = mulberry32(5);
  const rows = Array.from({ length: 400 }, () => {
    const a = random() * 4 - 2;
    const b = random() * 4 - 2;
    return [a, b, random() < 0.5 ? 'x' : 'z', a - b + random() * 2 - 1 > 0 ? 'yes' : 'no'];
  });
  const columns = [
    { name: 'a', type: 'number' as const },
    { name: 'b', type: 'number' as const },
    { name: 'kind', type: 'string' as const },
    { name: 'y', type: 'string' as const },
  ];
  const train = await writeDataset(ctx.artifacts, columns, rows);
  const { transform } = await fitFeaturesImpl.run({ dataset: train, label: 'y' }, ctx);
  binary = { train, transform };
});
after(async () => {
  await ctx.dispose();
});

describe('train.classifier, logistic by L-BFGS', () => {
  it('is the default: converges in far fewer iterations than epochs, heartbeating them, reproducibly', async () => {
    ctx.heartbeats.length = 0;
    const a = await trainClassifierImpl.run({ ...binary, ...logistic }, ctx);
    const { iterations, converged } = lastFit();
    assert.ok(converged && iterations >= 3 && iterations < 100, `${iterations} iterations, converged ${converged}`);
    // Progress is posted after each iteration; on a fit this short the last few may still be in
    // flight when the result arrives, so those that came must be in order and within the count.
    const seen = progressOf(ctx.heartbeats).map((h) => h.iteration);
    assert.ok(
      seen.every((n, i) => n >= 1 && n <= iterations && (i === 0 || n >= seen[i - 1]!)),
      seen.join(),
    );
    for (const h of progressOf(ctx.heartbeats)) {
      assert.deepEqual(Object.keys(h), ['iteration', 'maxIterations', 'loss']);
      assert.equal(h.maxIterations, 100);
    }
    assert.equal(a.backend, 'lbfgs');
    assert.ok(a.trainMetrics.accuracy > 0.8, `accuracy ${a.trainMetrics.accuracy}`);

    const again = await trainClassifierImpl.run({ ...binary, ...logistic }, ctx);
    assert.equal(a.model.sha256, again.model.sha256);

    // No seed or batch is involved: another seed, rate and batch give the same weights.
    const b = await trainClassifierImpl.run({ ...binary, ...logistic, seed: 9, learningRate: 1, batchSize: 7 }, ctx);
    const model = await loadModel(ctx.artifacts, a.model.uri);
    assert.deepEqual((await loadModel(ctx.artifacts, b.model.uri)).layers, model.layers);
    assert.deepEqual(a.trainMetrics, b.trainMetrics);

    // The layout the ONNX exporter and predictProba read: one [inputs][1] sigmoid layer.
    assert.deepEqual(
      model.layers.map((l) => [l.weights.length, l.weights[0]!.length, l.bias.length, l.activation]),
      [[4, 1, 1, 'sigmoid']],
    );
  });

  it('takes epochs as its maximum number of iterations', async () => {
    await trainClassifierImpl.run({ ...binary, ...logistic, epochs: 2 }, ctx);
    assert.deepEqual(lastFit(), { iterations: 2, converged: false });
  });

  it("trains by TensorFlow.js epochs with solver 'sgd', and refuses 'lbfgs' for an mlp", async () => {
    const sgd = await trainClassifierImpl.run({ ...binary, ...logistic, epochs: 3, solver: 'sgd' }, ctx);
    assert.notEqual(sgd.backend, 'lbfgs');
    await assert.rejects(
      trainClassifierImpl.run({ ...binary, ...logistic, architecture: 'mlp', solver: 'lbfgs' }, ctx),
      (error: Error & { type?: string }) => {
        assert.equal(error.type, 'InvalidData');
        assert.match(error.message, /solver 'lbfgs' fits logistic regression only; an mlp trains with solver 'sgd'/);
        return true;
      },
    );
  });

  it('stops when the activity is cancelled, and the solver thread ends', async () => {
    const local = await testContext();
    try {
      // Correlated features on many rows: a fit of seconds, cancelled at its first iteration.
      const rows = 600_000;
      const inputs = 8;
      const random = mulberry32(3);
      const features = new Float32Array(rows * inputs);
      const targets = new Float32Array(rows);
      for (let i = 0; i < rows; i++) {
        const base = random() * 2 - 1;
        let z = 0;
        for (let j = 0; j < inputs; j++) {
          const v = base + 0.05 * (random() * 2 - 1);
          features[i * inputs + j] = v;
          z += (j % 2 === 0 ? 1 : -1) * (j + 1) * v;
        }
        targets[i] = z + (random() * 2 - 1) > 0 ? 1 : 0;
      }
      local.heartbeat = (details) => {
        local.heartbeats.push(details);
        if ((details as Partial<Progress> | undefined)?.iteration === 1)
          local.abort.abort(new Error('cancelled by test'));
      };
      const started = performance.now();
      await assert.rejects(
        trainLogistic(local, { features, targets, rows }, { inputs, outputs: 1, l2: 0, maxIterations: 10_000 }),
        /cancelled by test/,
      );
      assert.ok(performance.now() - started < 5000, 'the cancellation took over 5 s');
      assert.deepEqual(progressOf(local.heartbeats)[0]?.iteration, 1);
      const seen = progressOf(local.heartbeats).length;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(progressOf(local.heartbeats).length, seen, 'progress arrived after the cancellation');
    } finally {
      await local.dispose();
    }
  });
});
