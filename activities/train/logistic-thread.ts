import { computeTask } from '../common/compute-pool';
import { fitLogisticLbfgs, logisticOutputs, type LogisticFit, type LogisticProblem } from './logistic-lbfgs';

// Runs on a compute-pool thread (activities/common/compute-pool.ts), as TensorFlow.js fits do:
// the solver holds this thread, never the worker's event loop; a cancellation ends the thread.

export interface LogisticInput {
  problem: LogisticProblem;
  maxIterations: number;
}

export interface LogisticOutput {
  fit: LogisticFit;
  /** The fitted model's outputs on the training rows, row-major, for the parity check of the stored model. */
  reference: Float32Array;
  seconds: number;
}

/** Fits logistic regression by L-BFGS; posts `{ iteration, maxIterations, loss }` as progress after each iteration. */
export const fitLogistic = computeTask(async ({ problem, maxIterations }: LogisticInput, progress) => {
  const started = performance.now();
  const fit = fitLogisticLbfgs(problem, {
    maxIterations,
    onIteration: (iteration, loss) => progress({ iteration, maxIterations, loss }),
  });
  const seconds = (performance.now() - started) / 1000;
  return { fit, reference: logisticOutputs(problem, fit), seconds } satisfies LogisticOutput;
});
