import type { LayersModel, Tensor, Tensor2D } from '@tensorflow/tfjs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { mulberry32, shuffleInPlace } from '../common/random';
import type { Tf } from './backend';
import type { Activation, DenseLayer } from '../common/model/model';
import { Patience } from './early-stopping';

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
  /** The most epochs to run; fewer when early stopping ends the fit. */
  epochs: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
  /** Held-out rows: after each epoch their loss is measured, and a fit that stops improving on them ends. */
  validation?: { x: Tensor2D; y: Tensor2D; patience: number; minDelta: number };
  onEpoch?: (epoch: number, loss: number, validationLoss?: number) => void;
}

export interface FitResult {
  /** The mean training loss of each epoch run, regularization included. */
  losses: number[];
  /** With validation: the held-out loss of each epoch run (without regularization). */
  validationLosses: number[];
  /** With validation: the epoch of lowest held-out loss, whose weights the model has on return. */
  bestEpoch?: number;
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

// LayersModel.predict runs 32 rows at a time unless told otherwise, several ops each: on
// hundreds of thousands of rows that costs more than an epoch of training.
const PREDICT_BATCH = 8192;

/** The network's outputs on every row of `x`, in batches large enough that per-op overhead does not dominate. */
export const predictAll = (model: LayersModel, x: Tensor2D): Tensor2D =>
  model.predict(x, { batchSize: PREDICT_BATCH }) as Tensor2D;

/** The loss the network trains on, without regularization, as the mean over the rows. */
function dataLoss(tf: Tf, model: LayersModel, x: Tensor2D, y: Tensor2D): number {
  const loss = model.loss as string;
  return tf.tidy(() => {
    const predicted = predictAll(model, x);
    const perRow =
      loss === 'binaryCrossentropy'
        ? tf.metrics.binaryCrossentropy(y, predicted)
        : loss === 'categoricalCrossentropy'
          ? tf.metrics.categoricalCrossentropy(y, predicted)
          : tf.metrics.meanSquaredError(y, predicted);
    return perRow.mean().dataSync()[0]!;
  });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One epoch in shuffled batches (or one full batch); the mean training loss over the rows. */
async function trainEpoch(
  tf: Tf,
  model: LayersModel,
  data: { x: Tensor2D; y: Tensor2D; order: number[]; random: () => number; batchSize: number },
  stopIfAborted: () => void,
): Promise<number> {
  const { x, y, order, batchSize } = data;
  const n = x.shape[0];
  if (batchSize === n) {
    stopIfAborted();
    return (await model.trainOnBatch(x, y)) as number;
  }
  shuffleInPlace(order, data.random);
  let total = 0;
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
  return total / n;
}

/**
 * Trains on row-major float32 features and targets, shuffling each epoch with a seeded
 * generator (tfjs's own `fit` shuffles with Math.random). With `validation`, stops once the
 * held-out loss has not improved for `patience` epochs and restores the weights of the best
 * epoch. Stops with the signal's reason when it is aborted.
 */
export async function fitNetwork(
  tf: Tf,
  model: LayersModel,
  x: Tensor2D,
  y: Tensor2D,
  options: FitOptions,
): Promise<FitResult> {
  const n = x.shape[0];
  const batchSize = Math.min(Math.max(1, options.batchSize), n);
  const data = { x, y, batchSize, random: mulberry32(options.seed), order: Array.from({ length: n }, (_, i) => i) };
  const losses: number[] = [];
  const validationLosses: number[] = [];
  const { validation } = options;
  const patience = validation && new Patience(validation);
  let best: Tensor[] | undefined;
  const stopIfAborted = () => {
    if (options.signal?.aborted) {
      const reason: unknown = options.signal.reason;
      throw reason instanceof Error ? reason : new Error('training was cancelled');
    }
  };
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const loss = await trainEpoch(tf, model, data, stopIfAborted);
      // Once the loss is NaN or infinite every weight after it is too: stop rather than store such a model.
      if (!Number.isFinite(loss))
        throw ApplicationFailure.nonRetryable(
          `training diverged: the loss is ${loss} after epoch ${epoch} of ${options.epochs}; lower the learning rate, or rescale the features and check them for extreme values`,
          FailureTypes.TrainingDiverged,
          { epoch, loss: String(loss) },
        );
      losses.push(loss);
      let stop = false;
      if (validation && patience) {
        const validationLoss = dataLoss(tf, model, validation.x, validation.y);
        validationLosses.push(validationLoss);
        const seen = patience.observe(epoch, validationLoss);
        if (seen.isBest) {
          // Copies, not the variables: the optimizer's next step replaces what a variable holds.
          tf.dispose(best ?? []);
          best = model.getWeights().map((w) => tf.keep(w.clone()));
        }
        stop = seen.stop;
        options.onEpoch?.(epoch, loss, validationLoss);
      } else options.onEpoch?.(epoch, loss);
      // Let timers and I/O run, so heartbeats go out and a cancellation can arrive.
      await nextTurn();
      if (stop) break;
    }
    if (best) model.setWeights(best);
  } finally {
    tf.dispose(best ?? []);
  }
  return { losses, validationLosses, ...(patience && { bestEpoch: patience.bestEpoch }) };
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
