import { applyTransform, transformWidth } from './transform';
import type { DenseLayer, ModelSpec } from './model';

// The forward pass in plain JavaScript (float64): what evaluation and serving run, and what the
// trainer checks against TensorFlow.js before it stores a model.

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function activate(z: number[], activation: DenseLayer['activation']): number[] {
  switch (activation) {
    case 'linear':
      return z;
    case 'relu':
      return z.map((v) => (v > 0 ? v : 0));
    case 'sigmoid':
      return z.map(sigmoid);
    case 'softmax': {
      const max = Math.max(...z);
      const e = z.map((v) => Math.exp(v - max));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    }
  }
}

/** Runs dense layers on one feature vector; returns the last layer's outputs. */
export function forward(layers: readonly DenseLayer[], x: ArrayLike<number>): number[] {
  let input: ArrayLike<number> = x;
  for (const layer of layers) {
    const { weights, bias } = layer;
    if (weights.length !== input.length)
      throw new RangeError(`a layer expects ${weights.length} inputs, got ${input.length}`);
    const z = bias.slice();
    for (let i = 0; i < weights.length; i++) {
      const xi = input[i]!;
      if (xi === 0) continue;
      const row = weights[i]!;
      for (let j = 0; j < z.length; j++) z[j]! += xi * row[j]!;
    }
    input = activate(z, layer.activation);
  }
  return Array.from(input);
}

/**
 * Class probabilities for each row, in the order of `model.classes` (for a binary model,
 * `[1 − p, p]` where p is the positive class's probability). Rows are objects by column name;
 * the model's own transform turns them into features.
 */
export function predictProba(model: ModelSpec, rows: readonly Readonly<Record<string, unknown>>[]): number[][] {
  refuseRegressor(model);
  const spec = model.transform.spec;
  return rows.map((row) => probabilities(model, forward(model.layers, applyTransform(spec, row))));
}

/** A regressor's prediction for each row, in the label's units. */
export function predictValues(model: ModelSpec, rows: readonly Readonly<Record<string, unknown>>[]): number[] {
  refuseClassifier(model);
  const spec = model.transform.spec;
  return rows.map((row) => forward(model.layers, applyTransform(spec, row))[0]!);
}

/**
 * `predictProba` of rows already turned into features by the model's transform, row-major and in
 * float64 (`transformColumns(spec, data, { precision: 'float64' })`), `rows` of them: the same numbers, without row objects.
 */
export function predictProbaOfFeatures(model: ModelSpec, features: Float64Array, rows: number): number[][] {
  refuseRegressor(model);
  return featureRows(model, features, rows, (x) => probabilities(model, forward(model.layers, x)));
}

/** `predictValues` of rows already turned into float64 features by the model's transform, as `predictProbaOfFeatures`. */
export function predictValuesOfFeatures(model: ModelSpec, features: Float64Array, rows: number): number[] {
  refuseClassifier(model);
  return featureRows(model, features, rows, (x) => forward(model.layers, x)[0]!);
}

function refuseRegressor(model: ModelSpec): void {
  if (model.task === 'regression')
    throw new Error(
      `the model of '${model.label}' is a regressor, which has no class probabilities; use predictValues`,
    );
}

function refuseClassifier(model: ModelSpec): void {
  if (model.task !== 'regression')
    throw new Error(`the model of '${model.label}' is a ${model.task} classifier; use predictProba`);
}

/** A binary model's one output p as [1 − p, p]; a multiclass model's outputs as they are. */
function probabilities(model: ModelSpec, out: number[]): number[] {
  if (model.task !== 'binary') return out;
  const p = out[0]!;
  return [1 - p, p];
}

function featureRows<T>(model: ModelSpec, features: Float64Array, rows: number, each: (x: Float64Array) => T): T[] {
  const width = transformWidth(model.transform.spec);
  if (features.length !== rows * width)
    throw new RangeError(`${rows} rows of ${width} features need ${rows * width} values, not ${features.length}`);
  return Array.from({ length: rows }, (_, i) => each(features.subarray(i * width, (i + 1) * width)));
}
