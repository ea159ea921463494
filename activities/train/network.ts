import type { LayersModel, Tensor2D } from '@tensorflow/tfjs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { mulberry32, shuffleInPlace } from '../common/random';
import type { Tf } from './backend';
import type { Activation, DenseLayer } from '../common/model/model';

export interface NetworkConfig {
  inputs: number;
  hidden: readonly number[];
  /** 1 for a binary classifier (sigmoid) or a regressor (linear), the number of classes otherwise (softmax). */
  outputs: number;
  /** The output layer and its loss: 'linear' trains on mean squared error; by default sigmoid or softmax by `outputs`, on cross-entropy. */
  head?: 'sigmoid' | 'softmax' | 'linear';
  learningRate: number;
  l2: number;
  seed: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, loss: number) => void;
}

const headOf = (config: NetworkConfig): Activation => config.head ?? (config.outputs === 1 ? 'sigmoid' : 'softmax');

const activations = (config: NetworkConfig): Activation[] => [
  ...config.hidden.map((): Activation => 'relu'),
  headOf(config),
];

const losses = {
  sigmoid: 'binaryCrossentropy',
  softmax: 'categoricalCrossentropy',
  linear: 'meanSquaredError',
  relu: 'meanSquaredError',
} as const;

/** A dense network with seeded initial weights, compiled with Adam and cross-entropy (mean squared error for a linear head). */
export function buildNetwork(tf: Tf, config: NetworkConfig): LayersModel {
  const model = tf.sequential();
  const units = [...config.hidden, config.outputs];
  const acts = activations(config);
  units.forEach((n, i) => {
    model.add(
      tf.layers.dense({
        units: n,
        activation: acts[i]!,
        ...(i === 0 ? { inputShape: [config.inputs] } : {}),
        kernelInitializer: tf.initializers.glorotUniform({ seed: config.seed + i }),
        biasInitializer: 'zeros',
        ...(config.l2 > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2: config.l2 }) } : {}),
      }),
    );
  });
  model.compile({
    optimizer: tf.train.adam(config.learningRate),
    loss: losses[headOf(config)],
  });
  return model;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains on row-major float32 features and targets, shuffling each epoch with a seeded
 * generator (tfjs's own `fit` shuffles with Math.random). Returns the mean loss of each epoch,
 * regularization included. Stops with the signal's reason when it is aborted.
 */
export async function fitNetwork(
  tf: Tf,
  model: LayersModel,
  x: Tensor2D,
  y: Tensor2D,
  options: FitOptions,
): Promise<number[]> {
  const n = x.shape[0];
  const batchSize = Math.min(Math.max(1, options.batchSize), n);
  const random = mulberry32(options.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  const losses: number[] = [];
  const stopIfAborted = () => {
    if (options.signal?.aborted) {
      const reason: unknown = options.signal.reason;
      throw reason instanceof Error ? reason : new Error('training was cancelled');
    }
  };
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    let total = 0;
    if (batchSize === n) {
      stopIfAborted();
      total = ((await model.trainOnBatch(x, y)) as number) * n;
    } else {
      shuffleInPlace(order, random);
      for (let start = 0; start < n; start += batchSize) {
        stopIfAborted();
        const count = Math.min(batchSize, n - start);
        const [xb, yb] = tf.tidy(() => {
          const idx = tf.tensor1d(order.slice(start, start + count), 'int32');
          return [tf.gather(x, idx), tf.gather(y, idx)];
        });
        try {
          total += ((await model.trainOnBatch(xb!, yb!)) as number) * count;
        } finally {
          tf.dispose([xb!, yb!]);
        }
      }
    }
    const loss = total / n;
    // Once the loss is NaN or infinite every weight after it is too: stop rather than store such a model.
    if (!Number.isFinite(loss))
      throw ApplicationFailure.nonRetryable(
        `training diverged: the loss is ${loss} after epoch ${epoch} of ${options.epochs}; lower the learning rate, or rescale the features and check them for extreme values`,
        FailureTypes.TrainingDiverged,
        { epoch, loss: String(loss) },
      );
    losses.push(loss);
    options.onEpoch?.(epoch, loss);
    // Let timers and I/O run, so heartbeats go out and a cancellation can arrive.
    await nextTurn();
  }
  return losses;
}

/** The trained weights as plain arrays: kernel [in][out], bias, activation, per layer. */
export function exportLayers(model: LayersModel, config: NetworkConfig): DenseLayer[] {
  const acts = activations(config);
  return model.layers.map((layer, i) => {
    const [kernel, bias] = layer.getWeights();
    if (!kernel || !bias) throw new Error(`layer ${i} has no kernel and bias`);
    return { weights: kernel.arraySync() as number[][], bias: bias.arraySync() as number[], activation: acts[i]! };
  });
}
