import { z } from 'zod';
import { defineStep } from '../../dsl';
import { columnType, datasetRef } from '../refs';

// Definitions only (zod, dsl, refs): pipelines import these; implementations live beside them.

/**
 * Reads a CSV file (RFC 4180, UTF-8) into a dataset artifact, inferring column types.
 * @example const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
 */
export const readCsv = defineStep({
  name: 'data.readCsv',
  version: '1',
  description: 'Read a CSV file into a typed, content-addressed dataset',
  input: z.object({
    path: z.string().min(1).describe('file path, relative to the worker\'s working directory'),
    label: z.string().min(1).optional().describe('a column that must exist and have no missing values'),
    columns: z.record(z.string(), columnType).optional().describe('declared types by column name; others are inferred'),
  }),
  output: z.object({
    dataset: datasetRef,
    summary: z.object({
      rows: z.number().int().nonnegative(),
      columns: z.number().int().positive(),
      missing: z.record(z.string(), z.number().int().positive()).describe('missing values by column, for columns with any'),
    }),
  }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});

/**
 * Splits a dataset into train and test at random, reproducibly from a seed, optionally stratified.
 * @example const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
 */
export const splitDataset = defineStep({
  name: 'data.split',
  version: '1',
  description: 'Seeded train/test split, stratified by a column when given',
  input: z.object({
    dataset: datasetRef,
    testFraction: z.number().gt(0).lt(1),
    seed: z.number().int(),
    stratifyBy: z.string().min(1).optional(),
  }),
  output: z.object({ train: datasetRef, test: datasetRef }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});

/**
 * Derives a two-class label from a numeric column: rows above the threshold (a number, or the
 * column's median) get one class, the rest the other. The source column is dropped, so the
 * label's own values cannot leak into the features.
 * @example const labelled = p.step(thresholdLabel, { dataset: raw.dataset, column: 'wage', label: 'pay', threshold: 'median' });
 */
export const thresholdLabel = defineStep({
  name: 'data.threshold',
  version: '1',
  description: 'Binary label from a numeric column by a threshold; the source column is dropped',
  input: z.object({
    dataset: datasetRef,
    column: z.string().min(1).describe('the numeric column to threshold; it is left out of the output'),
    label: z.string().min(1).describe('the name of the new label column, appended last'),
    threshold: z.union([z.number().finite(), z.literal('median')]).describe('a value, or the column\'s median'),
    above: z.string().min(1).default('high').describe('the class of rows strictly above the threshold'),
    atOrBelow: z.string().min(1).default('low').describe('the class of the other rows'),
  }),
  output: z.object({
    dataset: datasetRef,
    threshold: z.number().describe('the value used, resolved when the median was asked for'),
    counts: z.record(z.string(), z.number().int().nonnegative()).describe('rows per class'),
  }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
