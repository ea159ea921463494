import * as ort from 'onnxruntime-node';
import type { ArtifactStore } from '../../artifacts/store';
import { categoryOf } from '../../common/model/transform';
import { isAbsent, type Cell } from '../../common/dataset/cells';
import { PROBABILITIES } from './build';
import { onnxSignature, type OnnxRef, type OnnxSignature, type OnnxValue } from '../../refs';

// Scoring raw records with an ONNX artifact in onnxruntime-node: one tensor per input built from
// the records' fields, by the conventions `buildOnnx` documents (NaN / '' for missing values).

/** A record field that cannot become a value of its input tensor; names the input and the row. */
export class OnnxInputError extends Error {
  constructor(
    readonly input: string,
    readonly row: number,
    message: string,
  ) {
    super(`input '${input}', row ${row + 1}: ${message}`);
    this.name = 'OnnxInputError';
  }
}

export type OnnxRecord = Readonly<Record<string, unknown>>;

/** Columns per row of an input: the last dimension of a [N, k] shape when fixed; 1 otherwise. */
function widthOf(input: OnnxValue): number {
  const shape = input.shape;
  if (!shape || shape.length < 2) return 1;
  const last = shape[shape.length - 1];
  return typeof last === 'number' ? last : 1;
}

function number(input: string, row: number, value: unknown): number {
  if (isAbsent(value)) return Number.NaN;
  if (typeof value === 'number') return value;
  // As applyTransform reads them: numeric text is a number, blank text is an error, not a gap.
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new OnnxInputError(input, row, `expected a number, got ${JSON.stringify(value)}`);
}

function integer(input: string, row: number, value: unknown): bigint {
  const x = typeof value === 'bigint' ? value : number(input, row, value);
  if (typeof x === 'bigint') return x;
  if (!Number.isSafeInteger(x))
    throw new OnnxInputError(input, row, `expected an integer, got ${JSON.stringify(value)}`);
  return BigInt(x);
}

function cellsOf(input: OnnxValue, width: number, record: OnnxRecord, row: number): unknown[] {
  const value = record[input.name];
  if (width === 1) return [Array.isArray(value) && value.length === 1 ? value[0] : value];
  if (!Array.isArray(value) || value.length !== width) {
    throw new OnnxInputError(input.name, row, `expected an array of ${width} values, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The input tensors of a batch of records: each input from the record field of the same name,
 * shaped [N, k] (or [N] for a rank-1 input). Numbers accept numeric strings; missing values (null,
 * undefined, NaN, an absent field) become NaN for numbers and '' for strings.
 */
export function inputTensors(signature: OnnxSignature, records: readonly OnnxRecord[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = records.length;
  for (const input of signature.inputs) {
    const width = widthOf(input);
    const dims = input.shape && input.shape.length === 1 ? [n] : [n, width];
    const cells = records.flatMap((r, i) => cellsOf(input, width, r, i));
    const rowOf = (k: number) => Math.floor(k / width);
    switch (input.type) {
      case 'float32':
        feeds[input.name] = new ort.Tensor(
          'float32',
          Float32Array.from(cells, (v, k) => number(input.name, rowOf(k), v)),
          dims,
        );
        break;
      case 'float64':
        feeds[input.name] = new ort.Tensor(
          'float64',
          Float64Array.from(cells, (v, k) => number(input.name, rowOf(k), v)),
          dims,
        );
        break;
      case 'int64':
        feeds[input.name] = new ort.Tensor(
          'int64',
          BigInt64Array.from(cells, (v, k) => integer(input.name, rowOf(k), v)),
          dims,
        );
        break;
      case 'int32':
        feeds[input.name] = new ort.Tensor(
          'int32',
          Int32Array.from(cells, (v, k) => Number(integer(input.name, rowOf(k), v))),
          dims,
        );
        break;
      case 'bool':
        feeds[input.name] = new ort.Tensor(
          'bool',
          Uint8Array.from(cells, (v, k) => {
            if (typeof v !== 'boolean')
              throw new OnnxInputError(input.name, rowOf(k), `expected true or false, got ${JSON.stringify(v)}`);
            return v ? 1 : 0;
          }),
          dims,
        );
        break;
      case 'string':
        feeds[input.name] = new ort.Tensor(
          'string',
          cells.map((v) => (isAbsent(v) ? '' : categoryOf(v as Cell))),
          dims,
        );
        break;
    }
  }
  return feeds;
}

/** Rows of a [N, k] float tensor as arrays of numbers. */
export function rowsOf(tensor: ort.Tensor): number[][] {
  const [n = 0, k = 1] = tensor.dims;
  const data = tensor.data as Float32Array | Float64Array;
  return Array.from({ length: n }, (_, i) => Array.from(data.subarray(i * k, (i + 1) * k)));
}

export interface OnnxScorer {
  readonly signature: OnnxSignature;
  readonly session: ort.InferenceSession;
  /** Every output of the graph for a batch of records. */
  run(records: readonly OnnxRecord[]): Promise<Record<string, ort.Tensor>>;
  /** Class probabilities per record, in `signature.classes` order (the `probabilities` output). */
  predictProba(records: readonly OnnxRecord[]): Promise<number[][]>;
  close(): Promise<void>;
}

export interface ScorerOptions {
  /** Threads per inference; default 1, since the graphs are small and workers share cores. */
  intraOpNumThreads?: number;
}

/** A scorer over the bytes of an .onnx file and its signature. */
export async function createScorer(
  bytes: Uint8Array,
  signature: OnnxSignature,
  options: ScorerOptions = {},
): Promise<OnnxScorer> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: options.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
  });
  const run = (records: readonly OnnxRecord[]) => session.run(inputTensors(signature, records));
  return {
    signature,
    session,
    run,
    async predictProba(records) {
      if (!session.outputNames.includes(PROBABILITIES)) {
        throw new Error(
          `the model has no '${PROBABILITIES}' output; its outputs are ${session.outputNames.join(', ')}`,
        );
      }
      if (records.length === 0) return [];
      return rowsOf((await run(records))[PROBABILITIES]!);
    },
    close: () => session.release(),
  };
}

/** Loads an ONNX artifact and its signature from the artifact store into a scorer. */
export async function openOnnx(
  artifacts: ArtifactStore,
  ref: Pick<OnnxRef, 'uri' | 'signature'>,
  options: ScorerOptions = {},
): Promise<OnnxScorer> {
  const [bytes, signature] = await Promise.all([
    artifacts.read(ref.uri),
    artifacts.readJson<unknown>(ref.signature.uri),
  ]);
  return createScorer(bytes, onnxSignature.parse(signature), options);
}
