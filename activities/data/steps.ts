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
