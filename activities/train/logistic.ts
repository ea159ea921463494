import { runOffThread } from '../common/compute-pool';
import type { DenseLayer } from '../common/model/model';
import type { StepContext } from '../library';
import type { DenseTraining } from './dense';
import type { LogisticInput, LogisticOutput } from './logistic-thread';

/** What `backend` says of a model fitted by the L-BFGS solver: plain TypeScript in float64, no TensorFlow.js. */
export const LBFGS_BACKEND = 'lbfgs';

/**
 * Fits logistic regression by full-batch L-BFGS on a compute-pool thread, heartbeating
 * `{ iteration, maxIterations, loss }` after each iteration and every second between; a
 * cancelled activity ends the thread. Returns one dense layer, laid out as TensorFlow.js's.
 */
export async function trainLogistic(
  ctx: StepContext,
  data: { features: Float32Array; targets: Float32Array; rows: number },
  config: { inputs: number; outputs: number; l2: number; maxIterations: number; describe?: Record<string, unknown> },
): Promise<DenseTraining> {
  const { inputs, outputs, l2, maxIterations } = config;
  ctx.log('training', { rows: data.rows, width: inputs, solver: LBFGS_BACKEND, maxIterations, ...config.describe });
  const { fit, reference, seconds } = await runOffThread<LogisticInput, LogisticOutput>(
    new URL('./logistic-thread.ts', import.meta.url),
    'fitLogistic',
    { problem: { ...data, inputs, outputs, l2 }, maxIterations },
    { signal: ctx.signal, heartbeat: (details) => ctx.heartbeat(details) },
  );
  ctx.log('converged', { iterations: fit.iterations, converged: fit.converged, loss: fit.loss });
  const layer: DenseLayer = {
    weights: Array.from({ length: inputs }, (_, j) => Array.from(fit.weights.subarray(j * outputs, (j + 1) * outputs))),
    bias: Array.from(fit.bias),
    activation: outputs === 1 ? 'sigmoid' : 'softmax',
  };
  return { layers: [layer], reference, backend: LBFGS_BACKEND, seconds };
}
