import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { RequestError } from './errors';

// What a request to a model must carry, read from the version's registered signature, and the
// JSON schema (compiled by ajv, as fastify does) that checks it before the model sees a row.

/** One raw input a model reads: a number, a category, a boolean, or a fixed-length vector of numbers. */
export type Feature =
  | { name: string; type: 'number' | 'integer' | 'category' | 'boolean' }
  | { name: string; type: 'vector'; width: number };

export interface ServingSignature {
  features: Feature[];
  task: 'binary' | 'multiclass' | 'regression';
  /** The columns of the probabilities, in order; empty for a regressor. */
  classes: string[];
}

/** Fields a row may carry beyond the features (ids, the label column of a training CSV), ignored. */
export const EXTRA_FIELDS = 64;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The features, task and classes of a registered signature: a Kiln model's (`inputs` typed
 * `number` / `string`, `output.classes`) or an ONNX graph's (`format: 'onnx'`, tensor inputs,
 * `classes`). undefined when the document is neither, so the caller can fall back to the artifact.
 */
export function readSignature(document: unknown): ServingSignature | undefined {
  if (!isRecord(document) || !Array.isArray(document.inputs)) return undefined;
  const features: Feature[] = [];
  for (const input of document.inputs) {
    if (!isRecord(input) || typeof input.name !== 'string' || typeof input.type !== 'string') return undefined;
    const feature = featureOf(input.name, input.type, input.shape);
    if (!feature) return undefined;
    features.push(feature);
  }
  if (document.format === 'onnx') {
    const classes = Array.isArray(document.classes) ? document.classes.map(String) : [];
    if (classes.length < 2) return undefined;
    return { features, task: classes.length === 2 ? 'binary' : 'multiclass', classes };
  }
  const output = document.output;
  if (!isRecord(output) || !Array.isArray(output.classes)) return undefined;
  const task = output.task;
  if (task !== 'binary' && task !== 'multiclass' && task !== 'regression') return undefined;
  return { features, task, classes: output.classes.map(String) };
}

function featureOf(name: string, type: string, shape: unknown): Feature | undefined {
  const last = Array.isArray(shape) && shape.length >= 2 ? shape[shape.length - 1] : 1;
  const width = typeof last === 'number' ? last : 1;
  switch (type) {
    case 'number':
      return { name, type: 'number' };
    case 'string':
      return { name, type: 'category' };
    case 'float32':
    case 'float64':
      return width === 1 ? { name, type: 'number' } : { name, type: 'vector', width };
    case 'int32':
    case 'int64':
      return width === 1 ? { name, type: 'integer' } : undefined;
    case 'bool':
      return width === 1 ? { name, type: 'boolean' } : undefined;
    default:
      return undefined;
  }
}

// JSON has no NaN or Infinity, but 1e999 parses to Infinity: the bounds refuse it.
const finite = { minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE };

function featureSchema(f: Feature): Record<string, unknown> {
  switch (f.type) {
    case 'number':
      return { type: ['number', 'null'], ...finite };
    case 'integer':
      return { type: ['integer', 'null'] };
    case 'category':
      // Categories are compared as text ('true', '4'), as the model's transform reads them.
      return { type: ['string', 'number', 'boolean', 'null'] };
    case 'boolean':
      return { type: 'boolean' };
    case 'vector':
      return {
        type: 'array',
        minItems: f.width,
        maxItems: f.width,
        items: { type: ['number', 'null'], ...finite },
      };
  }
}

/** The JSON schema of one row: every feature present (null for a missing value), typed. */
export function rowSchema(signature: ServingSignature): Record<string, unknown> {
  return {
    type: 'object',
    required: signature.features.map((f) => f.name),
    maxProperties: signature.features.length + EXTRA_FIELDS,
    properties: Object.fromEntries(signature.features.map((f) => [f.name, featureSchema(f)])),
  };
}

/** The JSON schema of a request body: one row, or `{ rows: [row, ...] }`. */
export function bodySchema(signature: ServingSignature): Record<string, unknown> {
  const row = rowSchema(signature);
  return {
    if: { type: 'object', required: ['rows'], properties: { rows: {} } },
    then: { type: 'object', properties: { rows: { type: 'array', minItems: 1, items: row } } },
    else: row,
  };
}

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true, coerceTypes: false });

export type BodyValidator = (body: unknown) => { rows: Record<string, unknown>[]; batch: boolean };

/**
 * Compiles the request check of a signature: returns the rows of a valid body, or throws a
 * RequestError naming the row and field (400), or the batch size over `maxRows` (413).
 */
export function compileValidator(signature: ServingSignature, maxRows: number): BodyValidator {
  const check: ValidateFunction = ajv.compile(bodySchema(signature));
  return (body) => {
    const batch = isRecord(body) && 'rows' in body;
    if (batch && Array.isArray(body.rows) && body.rows.length > maxRows) {
      throw new RequestError(
        413,
        'BatchTooLarge',
        `the batch has ${body.rows.length} rows; this server takes at most ${maxRows} per request: split it`,
      );
    }
    if (!check(body)) throw describe(check.errors?.[0], batch);
    return batch
      ? { rows: body.rows as Record<string, unknown>[], batch }
      : { rows: [body as Record<string, unknown>], batch };
  };
}

const unescape = (segment: string) => segment.replace(/~1/g, '/').replace(/~0/g, '~');
const shown = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
};

/** A 400 naming the row and the field from ajv's first error. */
function describe(error: ErrorObject | undefined, batch: boolean): RequestError {
  const shape = 'send one row (an object of feature values) or { "rows": [ ... ] }';
  if (!error) return new RequestError(400, 'InvalidRequest', `the body is not a valid request: ${shape}`);
  const path = error.instancePath.split('/').slice(1).map(unescape);
  const [rowPart, fieldPart] = batch
    ? path[0] === 'rows'
      ? [path[1], path[2]]
      : [undefined, undefined]
    : ['0', path[0]];
  if (rowPart === undefined) {
    const what = batch ? '"rows" must be a non-empty array of rows' : `the body must be a JSON object: ${shape}`;
    return new RequestError(400, 'InvalidRequest', what);
  }
  const row = Number(rowPart);
  switch (error.keyword) {
    case 'required': {
      const field = (error.params as { missingProperty: string }).missingProperty;
      return new RequestError(
        400,
        'InvalidRequest',
        `row ${row}: feature '${field}' is missing; send null for a missing value, which the model imputes`,
        { row, field },
      );
    }
    case 'maxProperties':
      return new RequestError(
        400,
        'InvalidRequest',
        `row ${row} has more than ${(error.params as { limit: number }).limit} fields; send the model's features (and at most ${EXTRA_FIELDS} others)`,
        { row },
      );
    default: {
      if (fieldPart === undefined)
        return new RequestError(400, 'InvalidRequest', `row ${row} must be an object of feature values`, { row });
      const expected =
        error.keyword === 'type'
          ? `must be ${[(error.params as { type: string | string[] }).type].flat().join(' or ')}`
          : (error.message ?? 'is not valid');
      return new RequestError(
        400,
        'InvalidRequest',
        `row ${row}: feature '${fieldPart}' ${expected}, got ${shown(error.data)}`,
        { row, field: fieldPart },
      );
    }
  }
}
