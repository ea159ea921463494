import type { Tensor2D } from '@tensorflow/tfjs';
import { computeTask } from '../common/compute-pool';
import type { DenseLayer } from '../common/model/model';
import { tensorflow, type TfRuntime } from './backend';
import type { EarlyStopping } from './early-stopping';
import { buildNetwork, exportLayers, fitNetwork, predictAll, type NetworkConfig } from './network';

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
  /** With early stopping: the rows held out (ascending), and when to stop. */
  validation?: { rows: Uint32Array } & Pick<EarlyStopping, 'patience' | 'minDelta'>;
}

export interface FitOutput {
  layers: DenseLayer[];
  /** TensorFlow.js's outputs on all the rows, held-out ones included, row-major. */
  reference: Float32Array;
  backend: TfRuntime['backend'];
  skipped: TfRuntime['skipped'];
  seconds: number;
  /** Epochs run: `epochs`, or fewer when early stopping ended the fit. */
  epochsRun: number;
  bestEpoch?: number;
  /** The held-out loss of the best epoch, the weights returned. */
  validationLoss?: number;
}

/** The given rows of a row-major matrix with `width` values a row, as a tensor. */
function pickRows(tf: TfRuntime['tf'], data: Float32Array, width: number, rows: ArrayLike<number>): Tensor2D {
  const out = new Float32Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) out.set(data.subarray(rows[k]! * width, (rows[k]! + 1) * width), k * width);
  return tf.tensor2d(out, [rows.length, width]);
}

/** Fits dense layers; posts `{ epoch, epochs, loss }` (and `validationLoss` with early stopping) as progress after each epoch. */
export const fitDense = computeTask(async (input: FitInput, progress): Promise<FitOutput> => {
  const { config, epochs, batchSize, rows, validation } = input;
  const { tf, backend, skipped } = await tensorflow();
  const network = buildNetwork(tf, config);
  const x = tf.tensor2d(input.features, [rows, config.inputs]) as Tensor2D;
  const y = tf.tensor2d(input.targets, [rows, config.outputs]) as Tensor2D;
  // With early stopping the network trains on the other rows and is validated on the held-out ones.
  let split: { x: Tensor2D; y: Tensor2D; xHeld: Tensor2D; yHeld: Tensor2D } | undefined;
  if (validation) {
    const held = new Uint8Array(rows);
    validation.rows.forEach((i) => (held[i] = 1));
    const kept = new Uint32Array(rows - validation.rows.length);
    for (let i = 0, k = 0; i < rows; i++) if (held[i] === 0) kept[k++] = i;
    split = {
      x: pickRows(tf, input.features, config.inputs, kept),
      y: pickRows(tf, input.targets, config.outputs, kept),
      xHeld: pickRows(tf, input.features, config.inputs, validation.rows),
      yHeld: pickRows(tf, input.targets, config.outputs, validation.rows),
    };
  }
  const started = performance.now();
  try {
    const fit = await fitNetwork(tf, network, split?.x ?? x, split?.y ?? y, {
      epochs,
      batchSize,
      seed: config.seed,
      ...(validation &&
        split && {
          validation: { x: split.xHeld, y: split.yHeld, patience: validation.patience, minDelta: validation.minDelta },
        }),
      onEpoch: (epoch, loss, validationLoss) =>
        progress(validationLoss === undefined ? { epoch, epochs, loss } : { epoch, epochs, loss, validationLoss }),
    });
    const layers = exportLayers(network, config);
    const reference = tf.tidy(() => predictAll(network, x)).dataSync() as Float32Array;
    return {
      layers,
      reference,
      backend,
      skipped,
      seconds: (performance.now() - started) / 1000,
      epochsRun: fit.losses.length,
      ...(fit.bestEpoch !== undefined && {
        bestEpoch: fit.bestEpoch,
        validationLoss: fit.validationLosses[fit.bestEpoch - 1]!,
      }),
    };
  } finally {
    tf.dispose([x, y, ...(split ? [split.x, split.y, split.xHeld, split.yHeld] : [])]);
    network.optimizer.dispose();
    network.dispose();
  }
});
