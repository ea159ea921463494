import * as ort from 'onnxruntime-node';
import { isAbsent, type Cell } from '../common/dataset/cells';
import type { ColumnValues } from '../common/dataset/dataset';
import { categoryOf } from '../common/model/transform';
import type { OnnxSignature, OnnxValue } from '../refs';
import { PROBABILITIES } from './onnx/build';
import { inputTensors, type OnnxScorer } from './onnx/session';

// ONNX input tensors built from whole columns, a batch of rows at a time. Numbers held in a
// Float64Array and string inputs are copied straight in; every other case goes through
// `inputTensors` (session.ts) on the batch's records, so its conversions and errors stay the one
// definition.

/** Whether an input takes one value per row (shape [N] or [N, 1], or no fixed last dimension). */
function scalar(input: OnnxValue): boolean {
  const shape = input.shape;
  if (!shape || shape.length < 2) return true;
  const last = shape[shape.length - 1];
  return typeof last !== 'number' || last === 1;
}

function tensorOf(input: OnnxValue, column: ColumnValues | undefined, start: number, end: number): ort.Tensor {
  const n = end - start;
  const dims = input.shape && input.shape.length === 1 ? [n] : [n, 1];
  if (scalar(input) && column instanceof Float64Array && (input.type === 'float32' || input.type === 'float64')) {
    const slice = column.subarray(start, end);
    return new ort.Tensor(input.type, input.type === 'float32' ? Float32Array.from(slice) : slice.slice(), dims);
  }
  if (scalar(input) && input.type === 'string' && column) {
    const text = new Array<string>(n);
    for (let r = 0; r < n; r++) {
      const value = column[start + r];
      text[r] = isAbsent(value) ? '' : categoryOf(value as Cell);
    }
    return new ort.Tensor('string', text, dims);
  }
  const records = Array.from({ length: n }, (_, r) => ({ [input.name]: column?.[start + r] }));
  return inputTensors({ inputs: [input], outputs: [] }, records)[input.name]!;
}

/** The input tensors of rows [start, end), as `inputTensors` builds them from the same rows as records. */
export function columnTensors(
  signature: OnnxSignature,
  columns: ReadonlyMap<string, ColumnValues>,
  start: number,
  end: number,
): Record<string, ort.Tensor> {
  return Object.fromEntries(
    signature.inputs.map((input) => [input.name, tensorOf(input, columns.get(input.name), start, end)]),
  );
}

/** Class probabilities of rows [start, end), row-major (rows × classes), from the `probabilities` output. */
export async function onnxProbabilities(
  scorer: OnnxScorer,
  columns: ReadonlyMap<string, ColumnValues>,
  start: number,
  end: number,
): Promise<Float64Array> {
  if (end === start) return new Float64Array(0);
  const outputs = await scorer.session.run(columnTensors(scorer.signature, columns, start, end));
  return Float64Array.from(outputs[PROBABILITIES]!.data as Float32Array | Float64Array);
}
