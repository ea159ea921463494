import type { Tensor2D } from '@tensorflow/tfjs';
import { computeTask } from '../common/compute-pool';
import type { DenseLayer } from '../common/model/model';
import { tensorflow, type TfRuntime } from './backend';
import { buildNetwork, exportLayers, fitNetwork, type NetworkConfig } from './network';

// Runs on a compute-pool thread (activities/common/compute-pool.ts): TensorFlow.js holds this
// thread for the whole fit, never the worker's event loop.

export interface FitInput {
  /** Row-major, config.inputs per row. */
  features: Float32Array;
  /** Row-major, config.outputs per row. */
  targets: Float32Array;
  rows: number;
  config: NetworkConfig;
  epochs: number;
  batchSize: number;
}

export interface FitOutput {
  layers: DenseLayer[];
  /** TensorFlow.js's outputs on the training rows, row-major. */
  reference: Float32Array;
  backend: TfRuntime['backend'];
  skipped: TfRuntime['skipped'];
  seconds: number;
}

/** Fits dense layers; posts `{ epoch, epochs, loss }` as progress after each epoch. */
export const fitDense = computeTask(async (input: FitInput, progress): Promise<FitOutput> => {
  const { config, epochs, batchSize, rows } = input;
  const { tf, backend, skipped } = await tensorflow();
  const network = buildNetwork(tf, config);
  const x = tf.tensor2d(input.features, [rows, config.inputs]) as Tensor2D;
  const y = tf.tensor2d(input.targets, [rows, config.outputs]) as Tensor2D;
  const started = performance.now();
  try {
    await fitNetwork(tf, network, x, y, {
      epochs,
      batchSize,
      seed: config.seed,
      onEpoch: (epoch, loss) => progress({ epoch, epochs, loss }),
    });
    const layers = exportLayers(network, config);
    const reference = tf.tidy(() => network.predict(x) as Tensor2D).dataSync() as Float32Array;
    return { layers, reference, backend, skipped, seconds: (performance.now() - started) / 1000 };
  } finally {
    tf.dispose([x, y]);
    network.optimizer.dispose();
    network.dispose();
  }
});
