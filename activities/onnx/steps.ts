import { z } from 'zod';
import { defineStep } from '../../dsl';
import { modelRef } from '../refs';

// Definitions only (zod, dsl, refs): pipelines import these; implementations live beside them.

/** Element types, named as onnxruntime's JavaScript API names them. */
export const onnxElementType = z.enum(['float32', 'float64', 'string', 'int64', 'int32', 'bool']);
export type OnnxElementType = z.infer<typeof onnxElementType>;

/** One graph input or output: a tensor by name, type and shape (a string or null is a size known only at run time). */
export const onnxValue = z.object({
  name: z.string().min(1),
  type: onnxElementType,
  shape: z
    .array(z.union([z.number().int().nonnegative(), z.string(), z.null()]))
    .optional()
    .describe('dimensions; a string or null is symbolic, such as the batch size N; leave out to accept any shape'),
});
export type OnnxValue = z.infer<typeof onnxValue>;

/** What a caller must send to a model and what it gets back. */
export const onnxSignature = z.object({
  inputs: z.array(onnxValue).min(1),
  outputs: z.array(onnxValue).min(1),
  classes: z.array(z.string()).optional().describe('the columns of the probabilities output, in order'),
});
export type OnnxSignature = z.infer<typeof onnxSignature>;

const stored = {
  uri: z.string().describe('artifact:sha256:<hex>'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
};

/** An .onnx file in the artifact store, with its signature stored beside it as JSON. */
export const onnxRef = z.object({
  kind: z.literal('onnx'),
  ...stored,
  signature: z.object(stored),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
});
export type OnnxRef = z.infer<typeof onnxRef>;

/**
 * Exports a trained model and its fitted preprocessing as one ONNX graph: raw column values in,
 * class probabilities (and the predicted label) out.
 * @example const onnx = p.step(exportOnnx, { model: trained.model });
 */
export const exportOnnx = defineStep({
  name: 'model.exportOnnx',
  version: '1',
  description: 'Export a model with its preprocessing to ONNX (raw features in, probabilities out)',
  input: z.object({ model: modelRef }),
  output: z.object({ onnx: onnxRef, signature: onnxSignature }),
  options: { startToCloseTimeout: '10m' },
});

/**
 * Registers a model trained elsewhere from an .onnx file, after checking that onnxruntime loads
 * it and that its inputs and outputs are exactly the declared ones.
 * @example
 * const imported = p.step(importOnnx, {
 *   path: 'models/credit.onnx',
 *   signature: { inputs: [{ name: 'float_input', type: 'float32', shape: [null, 20] }], outputs: [{ name: 'probabilities', type: 'float32' }] },
 * });
 */
export const importOnnx = defineStep({
  name: 'model.importOnnx',
  version: '1',
  description: 'Register an .onnx model trained elsewhere, checked against its declared signature',
  input: z.object({
    path: z.string().min(1).describe("file path, relative to the worker's working directory"),
    signature: onnxSignature,
  }),
  output: z.object({ onnx: onnxRef, signature: onnxSignature }),
  // The file at a path can change between runs; its content is what gets registered.
  options: { startToCloseTimeout: '10m', cache: false },
});
