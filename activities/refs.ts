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
  columns: z.array(z.object({ name: z.string(), type: columnType })),
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
