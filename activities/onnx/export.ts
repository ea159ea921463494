import { DEFAULT_THRESHOLD } from '../evaluate/metrics';
import type { FeatureSpec } from '../features/transform';
import type { ModelSpec } from '../train/model';
import { DataType, encodeModel, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import type { OnnxSignature } from './steps';

// One ONNX graph from raw column values to class probabilities: the fitted transform
// (`applyTransform`) and the dense layers (`forward`), in float32, opset 17.
//
// Signature of an exported model, for N rows:
//   inputs   one per feature column, named as the column, shape [N, 1]:
//            numeric column      float32; NaN where the value is missing (imputed with the mean)
//            categorical column  string (booleans as 'true' / 'false'); '' where missing;
//                                a missing or unseen category encodes as all zeros
//   outputs  probabilities  float32 [N, classes], columns in `classes` order
//                           (binary: [1 − p, p], p the probability of classes[1])
//            label          string [N]: binary, classes[1] when p ≥ 0.5; multiclass, the argmax

export const OPSET = 17;
/** ai.onnx.ml, for OneHotEncoder on strings (ai.onnx's Equal accepts strings only from opset 19). */
export const ML_OPSET = 3;
/** The IR version that goes with opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;
export const PROBABILITIES = 'probabilities';
export const LABEL = 'label';
const BATCH = 'N';
/** Internal value names live under this prefix, so that they cannot meet a column name by accident. */
const NS = 'kiln/';

/** A model that cannot be expressed as the ONNX graph this exporter builds; says which part and why. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(`ONNX export: ${message}`);
    this.name = 'OnnxExportError';
  }
}

const inputType = (f: FeatureSpec) => (f.type === 'numeric' ? DataType.FLOAT : DataType.STRING);

/** The inputs, outputs and classes of the graph `buildOnnx` builds for this model. */
export function onnxSignatureOf(model: ModelSpec): OnnxSignature {
  return {
    inputs: model.transform.spec.features.map((f) => ({ name: f.name, type: f.type === 'numeric' ? 'float32' : 'string', shape: [BATCH, 1] })),
    outputs: [
      { name: PROBABILITIES, type: 'float32', shape: [BATCH, model.classes.length] },
      { name: LABEL, type: 'string', shape: [BATCH] },
    ],
    classes: [...model.classes],
  };
}

function check(model: ModelSpec): void {
  const { features } = model.transform.spec;
  if (model.task !== 'binary' && model.task !== 'multiclass') throw new OnnxExportError(`task '${String(model.task)}' is not a classification; only binary and multiclass models export`);
  if (model.layers.length === 0) throw new OnnxExportError('the model has no layers');
  if (features.length === 0) throw new OnnxExportError('the transform has no features');
  const names = new Set<string>();
  for (const f of features) {
    if (names.has(f.name)) throw new OnnxExportError(`the transform has the feature '${f.name}' twice`);
    names.add(f.name);
    if (f.name === PROBABILITIES || f.name === LABEL || f.name.startsWith(NS)) {
      throw new OnnxExportError(`the feature '${f.name}' has the name of a graph output or internal value; rename the column`);
    }
    if (f.type === 'categorical') {
      if (f.categories.length === 0) throw new OnnxExportError(`the categorical feature '${f.name}' has no categories`);
      // '' is what a missing category is sent as; a fitted '' category would make missing look seen.
      if (f.categories.includes('')) throw new OnnxExportError(`the categorical feature '${f.name}' has the empty string as a category; '' is reserved for a missing value`);
    } else if (!(Number.isFinite(f.mean) && Number.isFinite(f.std) && f.std !== 0)) {
      throw new OnnxExportError(`the numeric feature '${f.name}' has mean ${f.mean} and std ${f.std}; both must be finite and std non-zero`);
    }
  }
  let width = features.reduce((w, f) => w + (f.type === 'numeric' ? 1 : f.categories.length), 0);
  model.layers.forEach((layer, i) => {
    if (layer.weights.length !== width) throw new OnnxExportError(`layer ${i} expects ${layer.weights.length} inputs but receives ${width}`);
    const out = layer.bias.length;
    const ragged = layer.weights.findIndex((row) => row.length !== out);
    if (ragged >= 0) throw new OnnxExportError(`layer ${i}: weight row ${ragged} has ${layer.weights[ragged]!.length} values, the bias ${out}`);
    width = out;
  });
  const expected = model.task === 'binary' ? 1 : model.classes.length;
  if (width !== expected) throw new OnnxExportError(`a ${model.task} model with ${model.classes.length} classes must end in ${expected} output(s), not ${width}`);
  if (model.task === 'binary' && model.classes.length !== 2) throw new OnnxExportError(`a binary model has two classes, not ${model.classes.length}`);
}

/** Accumulates nodes and initializers with unique internal names. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private count = 0;

  private fresh(hint: string): string {
    return `${NS}${hint}_${this.count++}`;
  }

  constant(hint: string, dataType: TensorProto['dataType'], dims: number[], values: TensorProto['values']): string {
    const name = this.fresh(hint);
    this.initializers.push({ name, dataType, dims, values });
    return name;
  }

  floats(hint: string, values: readonly number[], dims = [values.length]): string {
    return this.constant(hint, DataType.FLOAT, dims, values);
  }

  op(opType: string, inputs: string[], options: { output?: string; domain?: string; attributes?: NodeProto['attributes'] } = {}): string {
    const output = options.output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType, inputs, outputs: [output], name: `${NS}${opType}_${this.nodes.length}`,
      ...(options.domain ? { domain: options.domain } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
    });
    return output;
  }
}

/**
 * Builds the ONNX graph of a model: raw columns in, probabilities and label out (see the
 * signature at the top of this file and `onnxSignatureOf`). Pure: returns the .onnx bytes.
 */
export function buildOnnx(model: ModelSpec): Uint8Array {
  check(model);
  const { features } = model.transform.spec;
  const g = new GraphBuilder();

  // Features in transform order, each [N, width]: numeric raw values, categorical one-hot.
  const pieces = features.map((f) => {
    if (f.type === 'numeric') return f.name;
    const encoded = g.op('OneHotEncoder', [f.name], {
      domain: 'ai.onnx.ml',
      attributes: { cats_strings: { strings: f.categories }, zeros: { int: 1 } },
    });
    return g.op('Reshape', [encoded, g.constant('onehot_shape', DataType.INT64, [2], [-1, f.categories.length])]);
  });
  const raw = pieces.length === 1 ? pieces[0]! : g.op('Concat', pieces, { attributes: { axis: { int: 1 } } });

  // (x − mean) / std over the whole vector, with mean 0 and std 1 on one-hot slots (exact there);
  // a missing value arrives as NaN and becomes 0, the standardized mean, as in applyTransform.
  const offsets = features.flatMap((f) => (f.type === 'numeric' ? [f.mean] : f.categories.map(() => 0)));
  const scales = features.flatMap((f) => (f.type === 'numeric' ? [f.std] : f.categories.map(() => 1)));
  const standardized = g.op('Div', [g.op('Sub', [raw, g.floats('mean', offsets)]), g.floats('std', scales)]);
  let x = g.op('Where', [g.op('IsNaN', [standardized]), g.floats('zero', [0], []), standardized]);

  model.layers.forEach((layer) => {
    const w = g.floats('weights', layer.weights.flat(), [layer.weights.length, layer.bias.length]);
    const z = g.op('Add', [g.op('MatMul', [x, w]), g.floats('bias', layer.bias)]);
    switch (layer.activation) {
      case 'linear': x = z; break;
      case 'relu': x = g.op('Relu', [z]); break;
      case 'sigmoid': x = g.op('Sigmoid', [z]); break;
      case 'softmax': x = g.op('Softmax', [z], { attributes: { axis: { int: -1 } } }); break;
      default: throw new OnnxExportError(`activation '${String(layer.activation)}' has no ONNX operator here`);
    }
  });

  const classes = g.constant('classes', DataType.STRING, [model.classes.length], model.classes);
  const flat = g.constant('flat', DataType.INT64, [1], [-1]);
  let index: string;
  if (model.task === 'binary') {
    const p = x;
    g.op('Concat', [g.op('Sub', [g.floats('one', [1], []), p]), p], { output: PROBABILITIES, attributes: { axis: { int: 1 } } });
    const positive = g.op('GreaterOrEqual', [p, g.floats('threshold', [DEFAULT_THRESHOLD], [])]);
    index = g.op('Reshape', [g.op('Cast', [positive], { attributes: { to: { int: DataType.INT64 } } }), flat]);
  } else {
    g.op('Identity', [x], { output: PROBABILITIES });
    index = g.op('ArgMax', [x], { attributes: { axis: { int: 1 }, keepdims: { int: 0 } } });
  }
  g.op('Gather', [classes, index], { output: LABEL, attributes: { axis: { int: 0 } } });

  const signature = onnxSignatureOf(model);
  const inputs: ValueInfoProto[] = features.map((f) => ({
    name: f.name,
    elemType: inputType(f),
    shape: [BATCH, 1],
    docString: f.type === 'numeric'
      ? `numeric; NaN when missing (imputed with the mean ${f.mean})`
      : `categorical, one of ${f.categories.length} fitted categories; '' when missing; unseen or missing encode as all zeros`,
  }));
  const outputs: ValueInfoProto[] = [
    { name: PROBABILITIES, elemType: DataType.FLOAT, shape: [BATCH, model.classes.length], docString: `class probabilities, columns ${model.classes.join(', ')}` },
    { name: LABEL, elemType: DataType.STRING, shape: [BATCH], docString: 'the predicted class' },
  ];
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [{ domain: '', version: OPSET }, { domain: 'ai.onnx.ml', version: ML_OPSET }],
    producerName: 'kiln',
    producerVersion: '1',
    docString: `${model.architecture} ${model.task} classifier of '${model.label}' with its fitted preprocessing`,
    graph: { name: `kiln_${model.architecture}_${model.label}`, nodes: g.nodes, initializers: g.initializers, inputs, outputs },
    metadata: {
      'kiln.signature': JSON.stringify(signature),
      'kiln.transform.sha256': model.transform.sha256,
      'kiln.label': model.label,
    },
  });
}
