import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef, transformRef } from '../refs';

// Training heartbeats every second from the worker's main thread while a pool thread fits
// (activities/common/compute-pool.ts), so a lost worker shows within 15 s, and its step is
// retried on another worker well inside 30 s.
const TRAIN_HEARTBEAT_TIMEOUT = '15s';

// The network and its optimizer, the same for both trainers.
const network = {
  hidden: z.array(z.number().int().positive()).optional().describe('hidden layer sizes, for mlp; default [16]'),
  epochs: z.number().int().positive(),
  learningRate: z.number().positive(),
  batchSize: z.number().int().positive().describe('rows per gradient step; at least the row count means full batch'),
  l2: z.number().nonnegative().optional().describe('L2 penalty on the weights; default 0'),
  seed: z.number().int(),
};

/**
 * Trains a logistic-regression or MLP classifier; binary (sigmoid) for two classes, softmax for
 * more. Logistic regression is fitted full batch by L-BFGS in float64 (`solver: 'lbfgs'`, the
 * default: `epochs` is then its maximum number of iterations, and learningRate, batchSize and
 * seed do not matter; backend 'lbfgs'), or by TensorFlow.js's Adam epochs with `solver: 'sgd'`,
 * the only solver of an MLP. Reproducible from its seed on a given backend.
 * @example
 * const trained = p.step(trainClassifier, {
 *   train: split.train, transform: features.transform, label: 'class', positiveClass: 'bad',
 *   architecture: 'logistic', epochs: 200, learningRate: 0.05, batchSize: 1024, l2: 0.001, seed: 7,
 * });
 */
export const trainClassifier = defineStep({
  name: 'train.classifier',
  // 2: logistic regression fits by L-BFGS unless solver 'sgd' is given, so results differ from 1's.
  version: '2',
  description: 'Train a logistic regression (L-BFGS, or gradient descent) or MLP classifier (TensorFlow.js)',
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
    trainMetrics: z.object({ loss: z.number(), accuracy: z.number() }),
    backend: z.string(),
  }),
  options: { startToCloseTimeout: '2h', heartbeatTimeout: TRAIN_HEARTBEAT_TIMEOUT },
});

/**
 * Trains a linear-regression or MLP regressor with TensorFlow.js on mean squared error, the label
 * standardized for training and scaled back into the stored model. Reproducible from its seed on
 * a given backend.
 * @example
 * const trained = p.step(trainRegressor, {
 *   train: split.train, transform: features.transform, label: 'wage',
 *   architecture: 'linear', epochs: 300, learningRate: 0.05, batchSize: 1024, seed: 7,
 * });
 */
export const trainRegressor = defineStep({
  name: 'train.regressor',
  version: '1',
  description: 'Train a linear regression or MLP regressor (TensorFlow.js)',
  input: z.object({
    train: datasetRef,
    transform: transformRef,
    label: z.string().min(1).describe('a numeric column'),
    architecture: z.enum(['linear', 'mlp']),
    ...network,
  }),
  output: z.object({
    model: modelRef,
    trainMetrics: z.object({ mae: z.number(), rmse: z.number(), r2: z.number() }),
    backend: z.string(),
  }),
  options: { startToCloseTimeout: '2h', heartbeatTimeout: TRAIN_HEARTBEAT_TIMEOUT },
});
