// @ts-check
// Kiln edge bundle: runs the bundle's model.onnx with onnxruntime-web (wasm, served from ./ort/)
// and predicts from plain objects, checked against signature.json. Written by `kiln export edge`.
//
//   import { load } from './kiln-edge.js';
//   const model = await load();
//   const { probabilities, label } = await model.predict({ duration: 12, purpose: 'radio/tv', ... });
//
// A field is required: a missing one, or one of the wrong type, throws an EdgeInputError naming it.
// null is a missing value, which the model imputes as it was trained to. Other fields are ignored.
import * as ort from './ort/ort.wasm.bundle.min.mjs';

/**
 * @typedef {{ name: string, tensor: 'float32' | 'float64' | 'int32' | 'int64' | 'string' | 'bool',
 *   field: 'number' | 'integer' | 'string' | 'boolean', width: number, rank: 1 | 2,
 *   categories?: string[], doc?: string }} EdgeInput
 * @typedef {{ format: 'kiln.edge/1', model: { name: string, version: number, artifactSha256: string, ref: string },
 *   graph: { file: string, sha256: string }, inputs: EdgeInput[], classes: string[],
 *   example: Record<string, unknown> }} EdgeSignature
 * @typedef {{ probabilities: number[], label: string }} Prediction
 */

// One thread: more need cross-origin isolation headers, which a plain static server does not send.
ort.env.wasm.numThreads = 1;

/** A field of an input object that the model cannot take; `row` is its index in a batch. */
export class EdgeInputError extends Error {
  /**
   * @param {string} field
   * @param {number | undefined} row
   * @param {string} message
   */
  constructor(field, row, message) {
    super(`${row === undefined ? '' : `row ${row}, `}field '${field}': ${message}`);
    this.name = 'EdgeInputError';
    this.field = field;
    this.row = row;
  }
}

/** @type {Record<EdgeInput['field'], (v: unknown) => boolean>} */
const accepts = {
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => typeof v === 'number' && Number.isSafeInteger(v),
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
};

/** @param {unknown} v */
const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'an array' : String(v));

/**
 * The values of one input across rows, with missing ones (null) as NaN or ''.
 * @param {EdgeInput} input
 * @param {Array<Record<string, unknown>>} rows
 * @param {boolean} batch
 */
function cellsOf(input, rows, batch) {
  return rows.flatMap((row, i) => {
    const at = batch ? i : undefined;
    if (row === null || typeof row !== 'object' || Array.isArray(row))
      throw new EdgeInputError(input.name, at, `expected an object with the model's fields, got ${show(row)}`);
    if (!(input.name in row)) throw new EdgeInputError(input.name, at, `missing (send null for a missing value)`);
    const value = row[input.name];
    const values = input.width === 1 ? [value] : value;
    if (!Array.isArray(values) || values.length !== input.width)
      throw new EdgeInputError(input.name, at, `expected an array of ${input.width} values, got ${show(value)}`);
    return values.map((v) => {
      if (v === null) {
        if (input.field === 'number') return Number.NaN;
        if (input.field === 'string') return '';
        throw new EdgeInputError(
          input.name,
          at,
          `expected ${input.field === 'integer' ? 'an integer' : 'a boolean'}, got null`,
        );
      }
      if (!accepts[input.field](v))
        throw new EdgeInputError(
          input.name,
          at,
          `expected ${input.field === 'integer' ? 'an integer' : `a ${input.field}`}, got ${show(v)}`,
        );
      return v;
    });
  });
}

/**
 * @param {EdgeInput} input
 * @param {unknown[]} cells
 * @param {number} n
 */
function tensorOf(input, cells, n) {
  const dims = input.rank === 1 ? [n] : [n, input.width];
  switch (input.tensor) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(/** @type {number[]} */ (cells)), dims);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(/** @type {number[]} */ (cells)), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(/** @type {number[]} */ (cells)), dims);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(cells, (v) => BigInt(/** @type {number} */ (v))),
        dims,
      );
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(cells, (v) => (v ? 1 : 0)),
        dims,
      );
    case 'string':
      return new ort.Tensor('string', /** @type {string[]} */ (cells), dims);
  }
}

/**
 * Loads a bundle: its signature.json and graph, from `base` (a URL or a path relative to the page),
 * by default the folder this module is served from.
 * @param {string | URL} [base]
 */
export async function load(base = new URL('./', import.meta.url)) {
  const root = new URL(String(base).endsWith('/') ? base : `${base}/`, globalThis.location?.href);
  const fetchOk = async (/** @type {string} */ file) => {
    const response = await fetch(new URL(file, root));
    if (!response.ok) throw new Error(`cannot load ${new URL(file, root)}: HTTP ${response.status}`);
    return response;
  };
  /** @type {EdgeSignature} */
  const signature = await (await fetchOk('signature.json')).json();
  const graph = new Uint8Array(await (await fetchOk(signature.graph.file)).arrayBuffer());
  const session = await ort.InferenceSession.create(graph, { executionProviders: ['wasm'] });

  /**
   * @param {Array<Record<string, unknown>>} rows
   * @param {boolean} batch
   * @returns {Promise<Prediction[]>}
   */
  async function run(rows, batch) {
    /** @type {Record<string, ort.Tensor>} */
    const feeds = {};
    for (const input of signature.inputs) feeds[input.name] = tensorOf(input, cellsOf(input, rows, batch), rows.length);
    const out = await session.run(feeds);
    const p = /** @type {Float32Array} */ (out.probabilities.data);
    const labels = /** @type {string[] | undefined} */ (out.label?.data);
    const k = signature.classes.length;
    return rows.map((_, i) => {
      const probabilities = Array.from(p.subarray(i * k, (i + 1) * k));
      const top = probabilities.indexOf(Math.max(...probabilities));
      return { probabilities, label: labels ? labels[i] : signature.classes[top] };
    });
  }

  return {
    signature,
    /** The columns of `probabilities`, in order. */
    classes: signature.classes,
    /**
     * Class probabilities (in `classes` order) and the predicted label of one object.
     * @param {Record<string, unknown>} row
     * @returns {Promise<Prediction>}
     */
    async predict(row) {
      return (await run([row], false))[0];
    },
    /**
     * The same for many objects at once, in one call of the graph; an error names the row.
     * @param {Array<Record<string, unknown>>} rows
     * @returns {Promise<Prediction[]>}
     */
    async predictBatch(rows) {
      return rows.length === 0 ? [] : run(rows, true);
    },
    release: () => session.release(),
  };
}
