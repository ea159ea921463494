import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';

// Logistic regression (sigmoid for one output, softmax for more) fitted full batch by L-BFGS in
// float64, as scikit-learn's default solver does: on standardized features it converges in tens
// of passes over the rows where gradient descent needs hundreds of epochs. Deterministic: it
// starts from zero weights and sums the rows in order, so no seed is involved.

export interface LogisticProblem {
  /** Row-major, `inputs` per row. */
  features: Float32Array;
  /** Row-major, `outputs` per row: 0/1 for one output, one-hot for more. */
  targets: Float32Array;
  rows: number;
  inputs: number;
  /** 1: binary (sigmoid); K ≥ 2: K classes (softmax). */
  outputs: number;
  /** The penalty `l2 · Σ w²` on the weights (not the bias), added to the mean cross-entropy, as TensorFlow.js's l2 regularizer. */
  l2: number;
}

export interface LbfgsOptions {
  maxIterations: number;
  /** Converged when no partial derivative of the objective exceeds this. */
  gradientTolerance?: number;
  /** Correction pairs kept. */
  memory?: number;
  onIteration?: (iteration: number, loss: number) => void;
}

export interface LogisticFit {
  /** [inputs][outputs], row-major. */
  weights: Float64Array;
  bias: Float64Array;
  /** The objective at the fitted weights: mean cross-entropy plus the penalty. */
  loss: number;
  iterations: number;
  converged: boolean;
}

const DEFAULT_TOLERANCE = 1e-6;
const DEFAULT_MEMORY = 10;
const ARMIJO = 1e-4;
const MAX_BACKTRACKS = 40;

/** log(1 + e^z) without overflow. */
const softplus = (z: number) => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

/**
 * The objective at `theta` (weights [inputs][outputs] then bias [outputs]) and its gradient,
 * written into `gradient`; one pass over the rows.
 */
export function objective(problem: LogisticProblem, theta: Float64Array, gradient: Float64Array): number {
  const { features: x, targets: y, rows, inputs: d, outputs: k, l2 } = problem;
  const biasAt = d * k;
  gradient.fill(0);
  let total = 0;
  if (k === 1) {
    const b = theta[biasAt]!;
    let gb = 0;
    for (let i = 0, row = 0; i < rows; i++, row += d) {
      let z = b;
      for (let j = 0; j < d; j++) z += x[row + j]! * theta[j]!;
      const t = y[i]!;
      total += softplus(z) - t * z;
      const r = 1 / (1 + Math.exp(-z)) - t;
      for (let j = 0; j < d; j++) gradient[j] = gradient[j]! + x[row + j]! * r;
      gb += r;
    }
    gradient[biasAt] = gb;
  } else {
    const z = new Float64Array(k);
    for (let i = 0, row = 0; i < rows; i++, row += d) {
      for (let c = 0; c < k; c++) z[c] = theta[biasAt + c]!;
      for (let j = 0; j < d; j++) {
        const xj = x[row + j]!;
        if (xj === 0) continue;
        for (let c = 0; c < k; c++) z[c] = z[c]! + xj * theta[j * k + c]!;
      }
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
      const logSum = max + Math.log(sum);
      for (let c = 0; c < k; c++) {
        const t = y[i * k + c]!;
        total -= t * (z[c]! - logSum);
        // The residual p - t, kept in z for the gradient below.
        z[c] = Math.exp(z[c]! - logSum) - t;
      }
      for (let j = 0; j < d; j++) {
        const xj = x[row + j]!;
        if (xj === 0) continue;
        for (let c = 0; c < k; c++) gradient[j * k + c] = gradient[j * k + c]! + xj * z[c]!;
      }
      for (let c = 0; c < k; c++) gradient[biasAt + c] = gradient[biasAt + c]! + z[c]!;
    }
  }
  let penalty = 0;
  for (let p = 0; p < gradient.length; p++) {
    gradient[p] = gradient[p]! / rows;
    if (p < biasAt) {
      penalty += theta[p]! * theta[p]!;
      gradient[p] = gradient[p]! + 2 * l2 * theta[p]!;
    }
  }
  return total / rows + l2 * penalty;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

const largest = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function diverged(iteration: number, loss: number, maxIterations: number): never {
  throw ApplicationFailure.nonRetryable(
    `training diverged: the loss is ${loss} at iteration ${iteration} of ${maxIterations}; rescale the features and check them for extreme values`,
    FailureTypes.TrainingDiverged,
    { iteration, loss: String(loss) },
  );
}

/**
 * Fits by L-BFGS (two-loop recursion, backtracking Armijo line search) from zero weights. Stops
 * when the gradient is below the tolerance, when a step no longer lowers the loss (float64's
 * limit), or after `maxIterations`. Fails as TrainingDiverged when the loss is not finite.
 */
export function fitLogisticLbfgs(problem: LogisticProblem, options: LbfgsOptions): LogisticFit {
  const { maxIterations, onIteration } = options;
  const tolerance = options.gradientTolerance ?? DEFAULT_TOLERANCE;
  const memory = options.memory ?? DEFAULT_MEMORY;
  const size = problem.inputs * problem.outputs + problem.outputs;
  let theta = new Float64Array(size);
  let gradient = new Float64Array(size);
  let loss = objective(problem, theta, gradient);
  if (!Number.isFinite(loss)) diverged(0, loss, maxIterations);

  const steps: Float64Array[] = [];
  const changes: Float64Array[] = [];
  const rhos: number[] = [];
  const alphas = new Float64Array(memory);
  const direction = new Float64Array(size);
  let next = new Float64Array(size);
  let nextGradient = new Float64Array(size);
  let iterations = 0;
  let converged = largest(gradient) <= tolerance;

  while (!converged && iterations < maxIterations) {
    // direction = -H·g, H the inverse Hessian approximated from the stored pairs.
    for (let p = 0; p < size; p++) direction[p] = -gradient[p]!;
    for (let m = steps.length - 1; m >= 0; m--) {
      alphas[m] = rhos[m]! * dot(steps[m]!, direction);
      const change = changes[m]!;
      for (let p = 0; p < size; p++) direction[p] = direction[p]! - alphas[m]! * change[p]!;
    }
    if (steps.length > 0) {
      const last = changes.at(-1)!;
      const scale = dot(steps.at(-1)!, last) / dot(last, last);
      for (let p = 0; p < size; p++) direction[p] = direction[p]! * scale;
    } else {
      // The first step, before any curvature is known: unit length.
      const norm = Math.sqrt(dot(direction, direction));
      for (let p = 0; p < size; p++) direction[p] = direction[p]! / Math.max(norm, 1);
    }
    for (let m = 0; m < steps.length; m++) {
      const beta = rhos[m]! * dot(changes[m]!, direction);
      const step = steps[m]!;
      for (let p = 0; p < size; p++) direction[p] = direction[p]! + (alphas[m]! - beta) * step[p]!;
    }

    const slope = dot(gradient, direction);
    let rate = 1;
    let nextLoss = NaN;
    let accepted = false;
    for (let tries = 0; tries < MAX_BACKTRACKS; tries++, rate /= 2) {
      for (let p = 0; p < size; p++) next[p] = theta[p]! + rate * direction[p]!;
      nextLoss = objective(problem, next, nextGradient);
      // A step too long can overflow; a shorter one is tried (NaN fails the comparison).
      if (nextLoss <= loss + ARMIJO * rate * slope) {
        accepted = true;
        break;
      }
    }
    iterations++;
    if (!accepted && !Number.isFinite(nextLoss)) diverged(iterations, nextLoss, maxIterations);
    if (!accepted || !(nextLoss < loss)) {
      // No step lowers the loss any more: as close to the minimum as float64 gets.
      onIteration?.(iterations, loss);
      converged = true;
      break;
    }

    const step = new Float64Array(size);
    const change = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      step[p] = next[p]! - theta[p]!;
      change[p] = nextGradient[p]! - gradient[p]!;
    }
    const curvature = dot(step, change);
    // Keep only pairs that keep the approximation positive definite.
    if (curvature > 1e-12) {
      if (steps.length === memory) {
        steps.shift();
        changes.shift();
        rhos.shift();
      }
      steps.push(step);
      changes.push(change);
      rhos.push(1 / curvature);
    }
    [theta, next] = [next, theta];
    [gradient, nextGradient] = [nextGradient, gradient];
    loss = nextLoss;
    onIteration?.(iterations, loss);
    converged = largest(gradient) <= tolerance;
  }

  const biasAt = problem.inputs * problem.outputs;
  return { weights: theta.slice(0, biasAt), bias: theta.slice(biasAt), loss, iterations, converged };
}

/** The fitted model's outputs on the problem's rows, row-major: P(positive) for one output, class probabilities for more. */
export function logisticOutputs(problem: LogisticProblem, fit: LogisticFit): Float32Array {
  const { features: x, rows, inputs: d, outputs: k } = problem;
  const out = new Float32Array(rows * k);
  const z = new Float64Array(k);
  for (let i = 0, row = 0; i < rows; i++, row += d) {
    for (let c = 0; c < k; c++) z[c] = fit.bias[c]!;
    for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) z[c] = z[c]! + x[row + j]! * fit.weights[j * k + c]!;
    if (k === 1) out[i] = 1 / (1 + Math.exp(-z[0]!));
    else {
      const max = Math.max(...z);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
      for (let c = 0; c < k; c++) out[i * k + c] = Math.exp(z[c]! - max) / sum;
    }
  }
  return out;
}
