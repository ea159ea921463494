import { onnxSignatureOf, PROBABILITIES } from '../../activities/model/onnx/build';
import type { OnnxSignature, OnnxValue } from '../../activities/refs';
import type { FeatureSpec } from '../../activities/common/model/transform';
import type { ModelSpec } from '../../activities/common/model/model';
import { EdgeExportError } from './errors';

// The bundle's signature.json: what the browser module checks a plain object against before it
// builds tensors, and what a person reads to call the model. runtime/kiln-edge.js reads it.

/** How a field of the plain object is typed, from its input tensor's element type. */
export type FieldType = 'number' | 'integer' | 'string' | 'boolean';

export interface EdgeInput {
  /** The input tensor's name, which is also the field name of the plain object. */
  name: string;
  /** The input tensor's element type, as onnxruntime names it. */
  tensor: OnnxValue['type'];
  field: FieldType;
  /** 1 for a [N, 1] or [N] input (one value per object); k for a fixed [N, k] input (an array of k). */
  width: number;
  /** Rank of the input tensor: 1 for [N], 2 for [N, k]. */
  rank: 1 | 2;
  /** The fitted categories of a categorical feature; another value encodes as all zeros. */
  categories?: string[];
  /** What the graph does with the feature, as the trainer fitted it. */
  doc?: string;
}

export interface EdgeSignature {
  format: 'kiln.edge/1';
  model: { name: string; version: number; artifactSha256: string; ref: string };
  /** The graph file and its sha256. */
  graph: { file: string; sha256: string };
  inputs: EdgeInput[];
  outputs: OnnxValue[];
  /** The columns of the probabilities output, in order. */
  classes: string[];
  /** A valid input object, which the bundle's index.html predicts. */
  example: Record<string, unknown>;
}

const FIELD: Record<OnnxValue['type'], FieldType> = {
  float32: 'number',
  float64: 'number',
  int32: 'integer',
  int64: 'integer',
  string: 'string',
  bool: 'boolean',
};

function shapeOf(input: OnnxValue): { width: number; rank: 1 | 2 } {
  const shape = input.shape;
  // No declared shape: Kiln's own convention, one [N, 1] tensor per field.
  if (!shape) return { width: 1, rank: 2 };
  if (shape.length === 1) return { width: 1, rank: 1 };
  if (shape.length === 2) return { width: typeof shape[1] === 'number' ? shape[1] : 1, rank: 2 };
  throw new EdgeExportError(
    `input '${input.name}' has shape [${shape.map((d) => d ?? '?').join(', ')}]; the edge module reads [N], [N, 1] or [N, k] inputs`,
  );
}

function featureDoc(f: FeatureSpec): string {
  switch (f.type) {
    case 'numeric':
      return `number; null when missing (imputed with ${f.impute ? `the ${f.impute.strategy} ${f.impute.value}` : `the mean ${f.mean}`})`;
    case 'bucketized':
      return `number, bucketed at ${f.boundaries.join(', ')}; null when missing`;
    case 'categorical':
      return `one of the fitted categories; null when missing; another value counts as unseen`;
  }
}

const round = (x: number) => Number(x.toPrecision(4));

function exampleValue(f: FeatureSpec): unknown {
  switch (f.type) {
    case 'numeric':
      return round(f.impute?.value ?? f.mean);
    case 'bucketized':
      return round(f.impute?.value ?? f.boundaries[0]!);
    case 'categorical':
      return f.impute?.value ?? f.categories[0]!;
  }
}

const exampleOfField = (input: EdgeInput): unknown => {
  const one = input.field === 'string' ? '' : input.field === 'boolean' ? false : 0;
  return input.width === 1 ? one : Array.from({ length: input.width }, () => one);
};

/** The inputs of a graph, typed for plain objects. */
function edgeInputs(signature: OnnxSignature, features: readonly FeatureSpec[] = []): EdgeInput[] {
  const byName = new Map(features.map((f) => [f.name, f]));
  return signature.inputs.map((input) => {
    const feature = byName.get(input.name);
    return {
      name: input.name,
      tensor: input.type,
      field: FIELD[input.type],
      ...shapeOf(input),
      ...(feature?.type === 'categorical' ? { categories: [...feature.categories] } : {}),
      ...(feature ? { doc: featureDoc(feature) } : {}),
    };
  });
}

/** The class names of the probabilities output; refuses a graph that has none. */
function classesOf(signature: OnnxSignature): string[] {
  const probabilities = signature.outputs.find((o) => o.name === PROBABILITIES);
  if (!probabilities)
    throw new EdgeExportError(
      `the edge module predicts from the '${PROBABILITIES}' output; this graph's outputs are ${signature.outputs.map((o) => o.name).join(', ')}`,
    );
  const width = probabilities.shape?.at(-1);
  if (signature.classes) return signature.classes;
  if (typeof width !== 'number')
    throw new EdgeExportError(`the graph declares no classes and its '${PROBABILITIES}' output has no fixed width`);
  return Array.from({ length: width }, (_, k) => String(k));
}

type Header = Pick<EdgeSignature, 'model' | 'graph'>;

/** The signature of a bundle exported from a Kiln model: its graph's signature plus the fitted features. */
export function signatureOfModel(header: Header, model: ModelSpec): EdgeSignature {
  const graph = onnxSignatureOf(model);
  const { features } = model.transform.spec;
  return {
    format: 'kiln.edge/1',
    ...header,
    inputs: edgeInputs(graph, features),
    outputs: graph.outputs,
    classes: classesOf(graph),
    example: Object.fromEntries(features.map((f) => [f.name, exampleValue(f)])),
  };
}

/** The signature of a bundle exported from a registered .onnx graph (trained elsewhere). */
export function signatureOfGraph(header: Header, graph: OnnxSignature): EdgeSignature {
  const inputs = edgeInputs(graph);
  return {
    format: 'kiln.edge/1',
    ...header,
    inputs,
    outputs: graph.outputs,
    classes: classesOf(graph),
    example: Object.fromEntries(inputs.map((i) => [i.name, exampleOfField(i)])),
  };
}
