import type { TransformSpec } from './transform';

// A trained model as one self-contained JSON document: the fitted transform and the dense
// layers, enough for `predictProba` (or an ONNX exporter) to run it without TensorFlow.js.

export type Activation = 'relu' | 'sigmoid' | 'softmax' | 'linear';

export interface DenseLayer {
  /** [inputs][outputs], as a dense layer's kernel. */
  weights: number[][];
  bias: number[];
  activation: Activation;
}

export interface TrainParams {
  hidden: number[];
  epochs: number;
  learningRate: number;
  batchSize: number;
  l2: number;
}

export interface ModelSpec {
  kind: 'kiln.model';
  version: 1;
  task: 'binary' | 'multiclass' | 'regression';
  /** 'logistic' and 'mlp' classify; 'linear' and 'mlp' regress. */
  architecture: 'logistic' | 'linear' | 'mlp';
  label: string;
  /** For a binary model, classes[1] is the positive class: the one whose probability the model outputs. Empty for a regressor. */
  classes: string[];
  transform: { sha256: string; spec: TransformSpec };
  layers: DenseLayer[];
  backend: string;
  seed: number;
  params: TrainParams;
  /**
   * Regression: the label's training mean and std. The network learned the standardized label;
   * its last layer is already scaled back, so `forward` gives the label in its own units.
   */
  target?: { mean: number; std: number };
}

/** Reads a model artifact, checking that it is one. */
export async function loadModel(artifacts: { readJson<T>(uri: string): Promise<T> }, uri: string): Promise<ModelSpec> {
  const model = await artifacts.readJson<Partial<ModelSpec>>(uri);
  if (model.kind !== 'kiln.model' || model.version !== 1 || !Array.isArray(model.layers) || !model.transform) {
    throw new Error(`artifact ${uri} is not a kiln.model version 1`);
  }
  return model as ModelSpec;
}
