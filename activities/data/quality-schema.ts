import { z } from 'zod';
import { columnType, datasetRef } from '../refs';

// Data quality checks as pipelines declare them. Node-free: pipelines import this file.
// A check is either about one column, holding any of its rules, or about the whole dataset:
//   { column: 'age', type: 'integer', notNull: true, min: 18, max: 100 }
//   { rowCount: { min: 500 } }

/** The population stability index of a column against a reference dataset, such as the training split. */
export const distributionRule = z.strictObject({
  reference: datasetRef.describe('the dataset whose distribution is expected, such as the training split'),
  maxPsi: z
    .number()
    .finite()
    .positive()
    .default(0.2)
    .describe('fails above this PSI; 0.1 is a small shift, 0.25 a large one'),
  bins: z.number().int().min(2).max(100).default(10).describe('quantile bins of the reference, for numeric columns'),
});

const allowedValue = z.union([z.string(), z.number(), z.boolean()]);

/** Rules on one column; each declared rule is checked and reported on its own. */
export const columnCheck = z
  .strictObject({
    column: z.string().min(1),
    type: columnType.optional().describe("the column's type; 'number' also accepts an integer column"),
    notNull: z.boolean().optional().describe('no missing values'),
    min: z.number().finite().optional().describe('smallest allowed value, inclusive; missing values are not checked'),
    max: z.number().finite().optional().describe('largest allowed value, inclusive; missing values are not checked'),
    allowed: z
      .array(allowedValue)
      .min(1)
      .optional()
      .describe('the only values allowed; missing values are not checked'),
    unique: z.boolean().optional().describe('no value appears twice; missing values are not compared'),
    distribution: distributionRule.optional(),
  })
  .refine(
    (c) =>
      c.type !== undefined ||
      c.notNull ||
      c.min !== undefined ||
      c.max !== undefined ||
      c.allowed !== undefined ||
      c.unique ||
      c.distribution !== undefined,
    { message: 'a column check needs a rule: type, notNull, min, max, allowed, unique or distribution' },
  )
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, {
    message: 'min must not exceed max',
    path: ['max'],
  });
export type ColumnCheck = z.infer<typeof columnCheck>;

/** Bounds on the number of rows, inclusive. */
export const rowCountCheck = z.strictObject({
  rowCount: z
    .strictObject({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() })
    .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'rowCount needs a min, a max or both' })
    .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
      message: 'min must not exceed max',
      path: ['max'],
    }),
});
export type RowCountCheck = z.infer<typeof rowCountCheck>;

export const qualityCheck = z.union([columnCheck, rowCountCheck]);
export type QualityCheck = z.infer<typeof qualityCheck>;

export const qualityRule = z.enum(['type', 'notNull', 'range', 'allowed', 'unique', 'distribution', 'rowCount']);
export type QualityRule = z.infer<typeof qualityRule>;

/** One failed rule, as the step reports it. */
export const qualityFailure = z.object({
  column: z.string().optional(),
  rule: qualityRule,
  message: z.string(),
  /** Rows that broke a row-level rule; null for rules about the whole column or dataset. */
  count: z.number().int().nonnegative().nullable(),
  /** The first failing rows, 1-based data row numbers (the header is not a row). */
  rows: z.array(z.number().int().positive()),
});
export type QualityFailure = z.infer<typeof qualityFailure>;
