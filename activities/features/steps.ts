import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, transformRef } from '../refs';

const imputeChoice = z
  .union([
    z.enum(['mean', 'median', 'mostFrequent']),
    z.object({ constant: z.union([z.number(), z.string().min(1), z.boolean()]) }).strict(),
  ])
  .describe("numbers: 'mean' | 'median' | { constant: n }; categories: 'mostFrequent' | { constant: 'category' }");

const bucketChoice = z
  .union([
    z.object({ boundaries: z.array(z.number()).min(1) }).strict(),
    z.object({ quantiles: z.number().int().min(2) }).strict(),
  ])
  .describe('explicit boundaries, or that many equal-count buckets fitted on the data; then one-hot of the bucket');

/**
 * Fits the preprocessing of every column but the label: standardized numbers, one-hot categories;
 * per column, optionally, missing values imputed with a fitted value and numbers bucketized.
 * @example
 * const features = p.step(fitFeatures, {
 *   dataset: split.train, label: 'wage',
 *   impute: { age: 'median', occupation: 'mostFrequent' },
 *   bucketize: { experience: { quantiles: 4 }, education: { boundaries: [12, 16] } },
 * });
 */
export const fitFeatures = defineStep({
  name: 'features.fit',
  version: '1',
  description:
    'Fit a feature transform: numeric columns standardized or bucketized, the others one-hot encoded, missing values imputed as declared',
  input: z.object({
    dataset: datasetRef,
    label: z.string().min(1),
    exclude: z.array(z.string()).optional().describe('columns to leave out besides the label, such as ids'),
    impute: z
      .record(z.string(), imputeChoice)
      .optional()
      .describe(
        'per column, how to fill a missing value; undeclared: numbers take the mean, categories encode as all zeros',
      ),
    bucketize: z
      .record(z.string(), bucketChoice)
      .optional()
      .describe('per numeric column, buckets one-hot encoded instead of standardizing'),
  }),
  output: z.object({ transform: transformRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
