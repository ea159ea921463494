import type { OnnxElementType, OnnxSignature, OnnxValue } from '../../refs';

// Checking a declared signature against what onnxruntime reports for a loaded model.
// Node-free: takes onnxruntime's metadata as plain data.

/** What onnxruntime reports for one input or output (InferenceSession.inputMetadata). */
export type ValueMetadata =
  | { name: string; isTensor: true; type: string; shape: ReadonlyArray<number | string> }
  | { name: string; isTensor: false };

/** The signature a loaded model actually has, with the classes a caller declares for it. */
export function signatureFrom(
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  classes?: string[],
): OnnxSignature {
  const value = (m: ValueMetadata): OnnxValue => {
    if (!m.isTensor) throw new Error(`'${m.name}' is not a tensor`);
    return {
      name: m.name,
      type: m.type as OnnxElementType,
      shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' && d ? d : null)),
    };
  };
  return { inputs: inputs.map(value), outputs: outputs.map(value), ...(classes ? { classes } : {}) };
}

const dimText = (d: number | string | null) => (d === null ? '?' : String(d));
const shapeText = (shape: ReadonlyArray<number | string | null>) => `[${shape.map(dimText).join(', ')}]`;

function compareValue(side: 'input' | 'output', declared: OnnxValue, actual: ValueMetadata): string[] {
  const at = `${side} '${declared.name}'`;
  if (!actual.isTensor) {
    return [
      `${at} is not a tensor in the model (a sequence or map, such as a ZipMap output); only tensors can be declared`,
    ];
  }
  const problems: string[] = [];
  if (actual.type !== declared.type) problems.push(`${at}: declared ${declared.type}, the model has ${actual.type}`);
  if (declared.shape) {
    // A symbolic or unknown size in the model is reported as a string or -1; a fixed size as a number.
    const model = actual.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
    const fits =
      declared.shape.length === model.length && declared.shape.every((d, i) => typeof d !== 'number' || d === model[i]);
    if (!fits)
      problems.push(
        `${at}: declared shape ${shapeText(declared.shape)}, the model has ${shapeText(actual.shape.map((d) => (typeof d === 'number' && d < 0 ? null : d)))}`,
      );
  }
  return problems;
}

function compareSide(
  side: 'input' | 'output',
  declared: readonly OnnxValue[],
  actual: readonly ValueMetadata[],
): string[] {
  const problems: string[] = [];
  const byName = new Map(actual.map((m) => [m.name, m]));
  const declaredNames = new Set(declared.map((d) => d.name));
  for (const d of declared) {
    const m = byName.get(d.name);
    if (!m)
      problems.push(
        `${side} '${d.name}' is declared but the model has no such ${side}; its ${side}s are ${[...byName.keys()].join(', ')}`,
      );
    else problems.push(...compareValue(side, d, m));
  }
  for (const m of actual) {
    if (!declaredNames.has(m.name)) problems.push(`${side} '${m.name}' of the model is not declared`);
  }
  return problems;
}

/**
 * Every difference between a declared signature and a model's inputs and outputs, one sentence
 * each naming the input or output; empty when they match. A declared shape is optional; a string
 * or null in it matches any size.
 */
export function signatureMismatches(
  declared: OnnxSignature,
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
): string[] {
  const problems = [
    ...compareSide('input', declared.inputs, inputs),
    ...compareSide('output', declared.outputs, outputs),
  ];
  const probabilities = declared.outputs.find((o) => o.name === 'probabilities');
  const width = probabilities?.shape?.at(-1);
  if (declared.classes && typeof width === 'number' && width !== declared.classes.length) {
    problems.push(
      `${declared.classes.length} classes are declared but the output 'probabilities' has ${width} columns`,
    );
  }
  return problems;
}
