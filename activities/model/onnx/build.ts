import { DEFAULT_THRESHOLD } from '../../common/metrics/classification';
import { increasingInFloat32 } from '../../common/model/transform';
import {
  featureWidth,
  type BucketizedFeature,
  type CategoricalFeature,
  type FeatureSpec,
} from '../../common/model/transform';
import type { ModelSpec } from '../../common/model/model';
import { DataType, encodeModel, type NodeProto, type TensorProto, type ValueInfoProto } from './proto';
import type { OnnxSignature } from '../../refs';

// One ONNX graph from raw column values to class probabilities: the fitted transform
// (`applyTransform`) and the dense layers (`forward`), in float32, opset 17.
//
// Signature of an exported model, for N rows:
//   inputs   one per feature column, named as the column, shape [N, 1]:
//            numeric column      float32; NaN where the value is missing (imputed with the fitted
//                                value, by default the mean)
//            bucketized column   float32; NaN where missing (imputed when the transform says so,
//                                else all zeros)
//            categorical column  string (booleans as 'true' / 'false'); '' where missing (imputed
//                                when the transform says so, else all zeros); unseen → all zeros
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

const inputType = (f: FeatureSpec) => (f.type === 'categorical' ? DataType.STRING : DataType.FLOAT);

/** The inputs, outputs and classes of the graph `buildOnnx` builds for this model. */
export function onnxSignatureOf(model: ModelSpec): OnnxSignature {
  return {
    inputs: model.transform.spec.features.map((f) => ({
      name: f.name,
      type: f.type === 'categorical' ? 'string' : 'float32',
      shape: [BATCH, 1],
    })),
    outputs: [
      { name: PROBABILITIES, type: 'float32', shape: [BATCH, model.classes.length] },
      { name: LABEL, type: 'string', shape: [BATCH] },
    ],
    classes: [...model.classes],
  };
}

function check(model: ModelSpec): void {
  const { features } = model.transform.spec;
  if (model.task !== 'binary' && model.task !== 'multiclass')
    throw new OnnxExportError(
      `task '${String(model.task)}' is not a classification; only binary and multiclass models export`,
    );
  if (model.layers.length === 0) throw new OnnxExportError('the model has no layers');
  if (features.length === 0) throw new OnnxExportError('the transform has no features');
  const names = new Set<string>();
  for (const f of features) {
    if (names.has(f.name)) throw new OnnxExportError(`the transform has the feature '${f.name}' twice`);
    names.add(f.name);
    if (f.name === PROBABILITIES || f.name === LABEL || f.name.startsWith(NS)) {
      throw new OnnxExportError(
        `the feature '${f.name}' has the name of a graph output or internal value; rename the column`,
      );
    }
    if (f.type === 'categorical') {
      if (f.categories.length === 0) throw new OnnxExportError(`the categorical feature '${f.name}' has no categories`);
      // '' is what a missing category is sent as; a fitted '' category would make missing look seen.
      if (f.categories.includes(''))
        throw new OnnxExportError(
          `the categorical feature '${f.name}' has the empty string as a category; '' is reserved for a missing value`,
        );
      if (f.impute && !f.categories.includes(f.impute.value)) {
        throw new OnnxExportError(
          `the categorical feature '${f.name}' imputes '${f.impute.value}', which is not one of its categories`,
        );
      }
    } else if (f.type === 'numeric' && !(Number.isFinite(f.mean) && Number.isFinite(f.std) && f.std !== 0)) {
      throw new OnnxExportError(
        `the numeric feature '${f.name}' has mean ${f.mean} and std ${f.std}; both must be finite and std non-zero`,
      );
    } else if (f.type === 'bucketized' && !(f.boundaries.length > 0 && increasingInFloat32(f.boundaries))) {
      throw new OnnxExportError(
        `the bucketized feature '${f.name}' has boundaries [${f.boundaries.join(', ')}]; they must be finite and strictly increasing in float32`,
      );
    }
    if (f.type !== 'categorical' && f.impute && !Number.isFinite(f.impute.value)) {
      throw new OnnxExportError(`the feature '${f.name}' imputes ${f.impute.value}; an impute value must be finite`);
    }
  }
  let width = features.reduce((w, f) => w + featureWidth(f), 0);
  model.layers.forEach((layer, i) => {
    if (layer.weights.length !== width)
      throw new OnnxExportError(`layer ${i} expects ${layer.weights.length} inputs but receives ${width}`);
    const out = layer.bias.length;
    const ragged = layer.weights.findIndex((row) => row.length !== out);
    if (ragged >= 0)
      throw new OnnxExportError(
        `layer ${i}: weight row ${ragged} has ${layer.weights[ragged]!.length} values, the bias ${out}`,
      );
    width = out;
  });
  const expected = model.task === 'binary' ? 1 : model.classes.length;
  if (width !== expected)
    throw new OnnxExportError(
      `a ${model.task} model with ${model.classes.length} classes must end in ${expected} output(s), not ${width}`,
    );
  if (model.task === 'binary' && model.classes.length !== 2)
    throw new OnnxExportError(`a binary model has two classes, not ${model.classes.length}`);
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

  op(
    opType: string,
    inputs: string[],
    options: { output?: string; domain?: string; attributes?: NodeProto['attributes'] } = {},
  ): string {
    const output = options.output ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      name: `${NS}${opType}_${this.nodes.length}`,
      ...(options.domain ? { domain: options.domain } : {}),
      ...(options.attributes ? { attributes: options.attributes } : {}),
    });
    return output;
  }
}

function inputDoc(f: FeatureSpec): string {
  switch (f.type) {
    case 'numeric':
      return `numeric; NaN when missing (imputed with the ${f.impute ? `${f.impute.strategy} ${f.impute.value}` : `mean ${f.mean}`})`;
    case 'bucketized':
      return `numeric, one-hot in ${f.boundaries.length + 1} buckets split at ${f.boundaries.join(', ')}; NaN when missing (${f.impute ? `imputed with the ${f.impute.strategy} ${f.impute.value}` : 'encodes as all zeros'})`;
    case 'categorical':
      return `categorical, one of ${f.categories.length} fitted categories; '' when missing (${f.impute ? `imputed with the ${f.impute.strategy} '${f.impute.value}'` : 'encodes as all zeros'}); unseen encodes as all zeros`;
  }
}

/** [N, K] one-hot of a string column; '' (missing) becomes the impute category when there is one, else all zeros like an unseen value. */
function oneHotCategories(g: GraphBuilder, f: CategoricalFeature): string {
  const shape = (k: number) => g.constant('onehot_shape', DataType.INT64, [2], [-1, k]);
  const oneHot = (categories: string[]) =>
    g.op('OneHotEncoder', [f.name], {
      domain: 'ai.onnx.ml',
      attributes: { cats_strings: { strings: categories }, zeros: { int: 1 } },
    });
  const encoded = g.op('Reshape', [oneHot(f.categories), shape(f.categories.length)]);
  if (!f.impute) return encoded;
  // ai.onnx.ml's Imputer takes no strings, and ai.onnx's Equal only from opset 19: a second
  // encoder over [''] flags the missing rows, which then get the impute category's slot.
  const missing = g.op('Reshape', [oneHot(['']), shape(1)]);
  const at = f.categories.indexOf(f.impute.value);
  const slot = g.floats(
    'impute_slot',
    f.categories.map((_, k) => (k === at ? 1 : 0)),
  );
  return g.op('Add', [encoded, g.op('Mul', [missing, slot])]);
}

/**
 * [N, B + 1] one-hot of the bucket of a float column. With r the [N, B] indicator x ≥ boundary
 * (monotone: 1 up to the bucket, then 0), the one-hot is e0 + r·D, D[k][k] = −1 and
 * D[k][k + 1] = 1: exact in float32. NaN reaches no boundary, so it is imputed first, or masked
 * to all zeros.
 */
function oneHotBuckets(g: GraphBuilder, f: BucketizedFeature): string {
  const b = f.boundaries.length;
  const nan = g.op('IsNaN', [f.name]);
  const x = f.impute ? g.op('Where', [nan, g.floats('bucket_fill', [f.impute.value], []), f.name]) : f.name;
  const reached = g.op('Cast', [g.op('GreaterOrEqual', [x, g.floats('boundaries', f.boundaries)])], {
    attributes: { to: { int: DataType.FLOAT } },
  });
  const d = Array.from({ length: b }, (_, k) =>
    Array.from({ length: b + 1 }, (_, j) => (j === k ? -1 : j === k + 1 ? 1 : 0)),
  );
  const first = g.floats(
    'bucket_first',
    Array.from({ length: b + 1 }, (_, j) => (j === 0 ? 1 : 0)),
  );
  const encoded = g.op('Add', [g.op('MatMul', [reached, g.floats('bucket_steps', d.flat(), [b, b + 1])]), first]);
  return f.impute ? encoded : g.op('Where', [nan, g.floats('zero', [0], []), encoded]);
}

/**
 * Builds the ONNX graph of a model: raw columns in, probabilities and label out (see the
 * signature at the top of this file and `onnxSignatureOf`). Pure: returns the .onnx bytes.
 */
export function buildOnnx(model: ModelSpec): Uint8Array {
  check(model);
  const { features } = model.transform.spec;
  const g = new GraphBuilder();

  // Features in transform order, each [N, width]: numeric raw values, categories and buckets one-hot.
  const pieces = features.map((f) => {
    if (f.type === 'numeric') return f.name;
    return f.type === 'categorical' ? oneHotCategories(g, f) : oneHotBuckets(g, f);
  });
  const raw = pieces.length === 1 ? pieces[0]! : g.op('Concat', pieces, { attributes: { axis: { int: 1 } } });

  // A missing number arrives as NaN and takes its fitted impute value, by default the mean (which
  // standardizes to exactly 0); then (x − mean) / std over the whole vector, with mean 0 and
  // std 1 on one-hot slots (exact there), as in applyTransform.
  const slots = (f: FeatureSpec, value: number) => Array.from({ length: featureWidth(f) }, () => value);
  const fills = features.flatMap((f) => (f.type === 'numeric' ? [f.impute?.value ?? f.mean] : slots(f, 0)));
  const offsets = features.flatMap((f) => (f.type === 'numeric' ? [f.mean] : slots(f, 0)));
  const scales = features.flatMap((f) => (f.type === 'numeric' ? [f.std] : slots(f, 1)));
  const imputed = g.op('Where', [g.op('IsNaN', [raw]), g.floats('fill', fills), raw]);
  let x = g.op('Div', [g.op('Sub', [imputed, g.floats('mean', offsets)]), g.floats('std', scales)]);

  model.layers.forEach((layer) => {
    const w = g.floats('weights', layer.weights.flat(), [layer.weights.length, layer.bias.length]);
    const z = g.op('Add', [g.op('MatMul', [x, w]), g.floats('bias', layer.bias)]);
    switch (layer.activation) {
      case 'linear':
        x = z;
        break;
      case 'relu':
        x = g.op('Relu', [z]);
        break;
      case 'sigmoid':
        x = g.op('Sigmoid', [z]);
        break;
      case 'softmax':
        x = g.op('Softmax', [z], { attributes: { axis: { int: -1 } } });
        break;
      default:
        throw new OnnxExportError(`activation '${String(layer.activation)}' has no ONNX operator here`);
    }
  });

  const classes = g.constant('classes', DataType.STRING, [model.classes.length], model.classes);
  const flat = g.constant('flat', DataType.INT64, [1], [-1]);
  let index: string;
  if (model.task === 'binary') {
    const p = x;
    g.op('Concat', [g.op('Sub', [g.floats('one', [1], []), p]), p], {
      output: PROBABILITIES,
      attributes: { axis: { int: 1 } },
    });
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
    docString: inputDoc(f),
  }));
  const outputs: ValueInfoProto[] = [
    {
      name: PROBABILITIES,
      elemType: DataType.FLOAT,
      shape: [BATCH, model.classes.length],
      docString: `class probabilities, columns ${model.classes.join(', ')}`,
    },
    { name: LABEL, elemType: DataType.STRING, shape: [BATCH], docString: 'the predicted class' },
  ];
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImports: [
      { domain: '', version: OPSET },
      { domain: 'ai.onnx.ml', version: ML_OPSET },
    ],
    producerName: 'kiln',
    producerVersion: '1',
    docString: `${model.architecture} ${model.task} classifier of '${model.label}' with its fitted preprocessing`,
    graph: {
      name: `kiln_${model.architecture}_${model.label}`,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs,
      outputs,
    },
    metadata: {
      'kiln.signature': JSON.stringify(signature),
      'kiln.transform.sha256': model.transform.sha256,
      'kiln.label': model.label,
    },
  });
}
