import { z } from 'zod';

// References that cross Temporal: small, content-addressed, typed by `kind` so that a model
// handle cannot be wired where a dataset is expected. Node-free: pipelines import these.

const artifact = {
  uri: z.string().describe('artifact:sha256:<hex>'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
};

export const columnType = z.enum(['number', 'integer', 'boolean', 'string']);
export type ColumnType = z.infer<typeof columnType>;

export const datasetRef = z.object({
  kind: z.literal('dataset'),
  ...artifact,
  rows: z.number().int().nonnegative(),
  columns: z.array(
    z.object({
      name: z.string(),
      type: columnType,
      /** Tagged sensitive when read: its values are shown only as keyed hashes in logs, errors and reports. */
      sensitive: z.literal(true).optional(),
    }),
  ),
});
export type DatasetRef = z.infer<typeof datasetRef>;

export const transformRef = z.object({
  kind: z.literal('transform'),
  ...artifact,
  features: z.array(z.string()),
  width: z.number().int().positive(),
});
export type TransformRef = z.infer<typeof transformRef>;

export const modelRef = z.object({
  kind: z.literal('model'),
  ...artifact,
  task: z.enum(['binary', 'multiclass', 'regression']),
  architecture: z.string(),
  label: z.string(),
  classes: z.array(z.string()),
  backend: z.string(),
});
export type ModelRef = z.infer<typeof modelRef>;

export const reportRef = z.object({
  kind: z.literal('report'),
  ...artifact,
});
export type ReportRef = z.infer<typeof reportRef>;

export const artifactUri = (sha256: string) => `artifact:sha256:${sha256}`;

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

/** An .onnx file in the artifact store, with its signature stored beside it as JSON. */
export const onnxRef = z.object({
  kind: z.literal('onnx'),
  ...artifact,
  signature: z.object(artifact),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
});
export type OnnxRef = z.infer<typeof onnxRef>;

/** A `p.approval` gate's decision as a step receives it; steps acting on it check the store's record. */
export const approvalDecision = z.object({
  gate: z.string().min(1),
  approved: z.boolean(),
  by: z.string().min(1),
  comment: z.string().optional(),
  at: z.string().optional(),
});
