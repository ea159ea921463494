import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor2D } from '@tensorflow/tfjs';
import { mulberry32 } from '../../../../activities/common/random';
import { tensorflow } from '../../../../activities/train/backend';
import { logisticSpec } from '../../../fixtures/models';
import { buildNetwork, exportLayers, fitNetwork, type NetworkConfig } from '../../../../activities/train/network';
import { forward, predictProba } from '../../../../activities/common/model/predict';

/** Trains a small network on random data, then compares tfjs's predictions with the plain forward pass. */
async function maxDifference(config: Omit<NetworkConfig, 'learningRate' | 'l2' | 'seed'>): Promise<number> {
  const { tf } = await tensorflow();
  const random = mulberry32(11);
  const n = 64;
  const xs = Float32Array.from({ length: n * config.inputs }, () => random() * 4 - 2);
  const ys = new Float32Array(n * config.outputs);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(random() * Math.max(2, config.outputs));
    if (config.outputs === 1) ys[i] = k;
    else ys[i * config.outputs + k] = 1;
  }
  const full: NetworkConfig = { ...config, learningRate: 0.05, l2: 0.001, seed: 3 };
  const network = buildNetwork(tf, full);
  const x = tf.tensor2d(xs, [n, config.inputs]) as Tensor2D;
  const y = tf.tensor2d(ys, [n, config.outputs]) as Tensor2D;
  try {
    await fitNetwork(tf, network, x, y, { epochs: 5, batchSize: 16, seed: 3 });
    const expected = (network.predict(x) as Tensor2D).arraySync();
    const layers = exportLayers(network, full);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const out = forward(layers, xs.subarray(i * config.inputs, (i + 1) * config.inputs));
      out.forEach((v, k) => {
        worst = Math.max(worst, Math.abs(v - expected[i]![k]!));
      });
    }
    return worst;
  } finally {
    tf.dispose([x, y]);
    network.dispose();
  }
}

describe('predictProba', () => {
  it('matches TensorFlow.js within 1e-5 for logistic regression', async () => {
    assert.ok((await maxDifference({ inputs: 7, hidden: [], outputs: 1 })) <= 1e-5);
  });

  it('matches TensorFlow.js within 1e-5 for a two-layer ReLU network with a softmax output', async () => {
    assert.ok((await maxDifference({ inputs: 7, hidden: [12, 5], outputs: 3 })) <= 1e-5);
  });

  it("reads rows through the model's transform and returns [1 - p, p] for a binary model", () => {
    const model = logisticSpec({
      features: [
        { name: 'x', type: 'numeric', mean: 1, std: 2 },
        { name: 'c', type: 'categorical', categories: ['a', 'b'] },
      ],
      weights: [[2], [1], [-1]],
      bias: [0.5],
    });
    // x = 3 → 1; c = 'b' → [0, 1]; z = 2·1 + 1·0 − 1·1 + 0.5 = 1.5
    const [p] = predictProba(model, [{ x: 3, c: 'b' }]);
    const expected = 1 / (1 + Math.exp(-1.5));
    assert.ok(Math.abs(p![1]! - expected) < 1e-15);
    assert.ok(Math.abs(p![0]! - (1 - expected)) < 1e-15);
  });

  it('computes a numerically stable softmax', () => {
    const out = forward([{ weights: [[1000, 0, -1000]], bias: [0, 0, 0], activation: 'softmax' }], [1]);
    assert.deepEqual(out, [1, 0, 0]);
  });
});
