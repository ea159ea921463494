import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, transformRef } from '../refs';

/**
 * Fits the preprocessing of every column but the label: standardized numbers, one-hot categories.
 * @example const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
 */
export const fitFeatures = defineStep({
  name: 'features.fit',
  version: '1',
  description: 'Fit a feature transform: numeric columns standardized, the others one-hot encoded',
  input: z.object({
    dataset: datasetRef,
    label: z.string().min(1),
    exclude: z.array(z.string()).optional().describe('columns to leave out besides the label, such as ids'),
  }),
  output: z.object({ transform: transformRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
