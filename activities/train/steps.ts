import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef, transformRef } from '../refs';
import { earlyStoppingOption } from './early-stopping';

// Training heartbeats every second from the worker's main thread while a pool thread fits
// (activities/common/compute-pool.ts), so a lost worker shows within 15 s, and its step is
// retried on another worker well inside 30 s.
const TRAIN_HEARTBEAT_TIMEOUT = '15s';

// The network and its optimizer, the same for both trainers.
const network = {
  hidden: z.array(z.number().int().positive()).optional().describe('hidden layer sizes, for mlp; default [16]'),
  epochs: z.number().int().positive().describe('epochs of gradient descent; with early stopping, the most to run'),
  learningRate: z.number().positive(),
  batchSize: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      'rows per gradient step; at least the row count means full batch; default 32 below 10,000 rows, then about rows/128 as a power of two, at most 2048',
    ),
  l2: z.number().nonnegative().optional().describe('L2 penalty on the weights; default 0'),
  seed: z.number().int(),
  earlyStopping: earlyStoppingOption.describe(
    'hold out validationFraction of the rows (seeded; by class for a classifier) and stop once their loss has not improved by minDelta for patience epochs, keeping the best epoch; default on from 10,000 rows ({ validationFraction: 0.1, patience: 10, minDelta: 1e-4 }), off below; true or false to choose',
  ),
};

// How a gradient-descent fit ran; absent for logistic regression fitted by L-BFGS.
const gradientDescent = z
  .object({
    batchSize: z.number().int().describe('rows per gradient step: the given one, or the default for the row count'),
    epochsRun: z.number().int().describe('epochs trained: epochs, or fewer when early stopping ended the fit'),
    earlyStopping: z
      .object({
        validationRows: z.number().int(),
        bestEpoch: z.number().int().describe('the epoch of lowest validation loss, whose weights the model has'),
        validationLoss: z.number().describe('the loss on the held-out rows at bestEpoch'),
      })
      .optional()
      .describe('present when early stopping was on'),
  })
  .optional();

/**
 * Trains a logistic-regression or MLP classifier; binary (sigmoid) for two classes, softmax for
 * more. Logistic regression is fitted full batch by L-BFGS in float64 (`solver: 'lbfgs'`, the
 * default: `epochs` is then its maximum number of iterations, and learningRate, batchSize,
 * earlyStopping and seed do not matter; backend 'lbfgs'), or by TensorFlow.js's Adam epochs with
 * `solver: 'sgd'`, the only solver of an MLP. Gradient descent stops early by default from
 * 10,000 rows: 10% of the rows (by class, seeded) are held out, and the fit ends once their loss
 * has not improved by 1e-4 for 10 epochs, with the best epoch's weights (scikit-learn's
 * early_stopping, Keras's restore_best_weights); `earlyStopping: false` trains every epoch on
 * every row. Without batchSize, batches are 32 rows below 10,000 rows and grow with the data
 * (to 2048). Reproducible from its seed on a given backend.
 * @example
 * const trained = p.step(trainClassifier, {
 *   train: split.train, transform: features.transform, label: 'class', positiveClass: 'bad',
 *   architecture: 'logistic', epochs: 200, learningRate: 0.05, batchSize: 1024, l2: 0.001, seed: 7,
 * });
 */
export const trainClassifier = defineStep({
  name: 'train.classifier',
  // 2: logistic regression fits by L-BFGS unless solver 'sgd' is given, so results differ from 1's.
  // 3: gradient descent stops early by default from 10,000 rows, so big-data results differ from 2's.
  version: '3',
  description:
    'Train a logistic regression (L-BFGS, or gradient descent) or MLP classifier (TensorFlow.js); gradient descent stops early on a 10% validation slice by default from 10,000 rows',
  input: z.object({
    train: datasetRef,
    transform: transformRef,
    label: z.string().min(1),
    architecture: z.enum(['logistic', 'mlp']),
    ...network,
    positiveClass: z.string().optional().describe('for two classes: the class whose probability the model outputs'),
    solver: z
      .enum(['lbfgs', 'sgd'])
      .optional()
      .describe(
        "logistic: 'lbfgs' (default; full batch, epochs = maximum iterations) or 'sgd' (Adam epochs on TensorFlow.js); mlp: 'sgd' only",
      ),
  }),
  output: z.object({
    model: modelRef,
    trainMetrics: z.object({ loss: z.number(), accuracy: z.number() }).describe('on every training row'),
    backend: z.string(),
    training: gradientDescent,
  }),
  options: { startToCloseTimeout: '2h', heartbeatTimeout: TRAIN_HEARTBEAT_TIMEOUT },
});

/**
 * Trains a linear-regression or MLP regressor with TensorFlow.js on mean squared error, the label
 * standardized for training and scaled back into the stored model. Early stopping and the default
 * batch size follow the classifier's rules (on from 10,000 rows; the validation loss is the mean
 * squared error of the standardized label). Reproducible from its seed on a given backend.
 * @example
 * const trained = p.step(trainRegressor, {
 *   train: split.train, transform: features.transform, label: 'wage',
 *   architecture: 'linear', epochs: 300, learningRate: 0.05, batchSize: 1024, seed: 7,
 * });
 */
export const trainRegressor = defineStep({
  name: 'train.regressor',
  // 2: early stopping by default from 10,000 rows, so big-data results differ from 1's.
  version: '2',
  description:
    'Train a linear regression or MLP regressor (TensorFlow.js); stops early on a 10% validation slice by default from 10,000 rows',
  input: z.object({
    train: datasetRef,
    transform: transformRef,
    label: z.string().min(1).describe('a numeric column'),
    architecture: z.enum(['linear', 'mlp']),
    ...network,
  }),
  output: z.object({
    model: modelRef,
    trainMetrics: z.object({ mae: z.number(), rmse: z.number(), r2: z.number() }).describe('on every training row'),
    backend: z.string(),
    training: gradientDescent,
  }),
  options: { startToCloseTimeout: '2h', heartbeatTimeout: TRAIN_HEARTBEAT_TIMEOUT },
});
