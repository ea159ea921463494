import { z } from 'zod';
import { defineStep } from '../../dsl';
import { columnType, datasetRef, reportRef } from '../refs';
import { qualityCheck, qualityFailure } from './quality-schema';

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
    path: z.string().min(1).describe("file path, relative to the worker's working directory"),
    label: z.string().min(1).optional().describe('a column that must exist and have no missing values'),
    columns: z.record(z.string(), columnType).optional().describe('declared types by column name; others are inferred'),
    nonFinite: z
      .enum(['refuse', 'missing'])
      .optional()
      .describe(
        'inf, -Infinity, nan or 1e309 in a numeric column: fail naming line and column (the default), or read as missing',
      ),
    sensitive: z
      .record(z.string().min(1), z.enum(['hash', 'drop']))
      .optional()
      .describe(
        "sensitive columns by name: 'hash' keeps the values for steps (fairness) but shows them only as keyed hashes in logs, errors and reports; 'drop' leaves the column out. Reading one is audited",
      ),
  }),
  output: z.object({
    dataset: datasetRef,
    summary: z.object({
      rows: z.number().int().nonnegative(),
      columns: z.number().int().positive(),
      missing: z
        .record(z.string(), z.number().int().positive())
        .describe('missing values by column, for columns with any'),
    }),
  }),
  // Not cached: the input names a path, not its content. Steps downstream are cached by the
  // dataset's hash, so unchanged data still skips them.
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m', cache: false },
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
    threshold: z.union([z.number().finite(), z.literal('median')]).describe("a value, or the column's median"),
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

/**
 * Reads a JSON Lines file (one object per line, UTF-8) into a dataset artifact. Columns appear in
 * the order their keys first appear; integers widen to number, other mixes read as strings. An
 * absent key, null, or a string "", "?", "NaN" or "NA" is a missing value.
 * @example const raw = p.step(readJsonl, { path: 'data/applications.jsonl', label: 'class', columns: { age: 'integer' } });
 */
export const readJsonl = defineStep({
  name: 'data.readJsonl',
  version: '1',
  description: 'Read a JSON Lines file into a typed, content-addressed dataset',
  input: readCsv.input,
  output: readCsv.output,
  // Not cached, like readCsv: the input names a path, not its content.
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m', cache: false },
});

const sqlParam = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * Runs a query on PostgreSQL and streams its rows into a dataset artifact through a server-side
 * cursor in a read-only transaction. Column types come from the result's types; SQL NULL and
 * float NaN are missing, text is kept as stored. Without a url it reads the worker's
 * KILN_SOURCE_DATABASE_URL (or libpq's PG* variables), never DATABASE_URL, which is Kiln's own store.
 * @example const raw = p.step(readPostgres, { query: 'select * from applications where created_at < $1', params: ['2026-01-01'], label: 'class' });
 */
export const readPostgres = defineStep({
  name: 'data.readPostgres',
  version: '1',
  description: 'Read the rows of a PostgreSQL query into a typed, content-addressed dataset',
  input: z.object({
    url: z
      .string()
      .min(1)
      .optional()
      .describe(
        "postgres://user@host/db; default the worker's KILN_SOURCE_DATABASE_URL, else libpq's PGHOST, PGDATABASE... (never DATABASE_URL, Kiln's own store). " +
          "Inputs are recorded in the run's history, so a password here is refused: give it through the worker's PGPASSWORD or KILN_SOURCE_DATABASE_URL",
      ),
    query: z.string().min(1).describe('one SELECT (or VALUES) statement; $1, $2... refer to params'),
    params: z.array(sqlParam).default([]),
    label: readCsv.input.shape.label,
    columns: z
      .record(z.string(), columnType)
      .optional()
      .describe("types by column name, converting the database's values; others follow the database types"),
  }),
  output: readCsv.output,
  // Not cached: the same query reads whatever the tables hold now.
  options: { startToCloseTimeout: '2h', heartbeatTimeout: '2m', cache: false },
});

/**
 * Checks a dataset against declared rules and writes a report; fails the run (or only warns) when any rule fails.
 * @example p.step(checkQuality, { dataset: raw.dataset, checks: [{ column: 'age', notNull: true, min: 18, max: 100 }, { rowCount: { min: 500 } }] });
 */
export const checkQuality = defineStep({
  name: 'data.quality',
  version: '1',
  description:
    'Data quality checks with a report: types, missing values, ranges, allowed values, uniqueness, row count, drift (PSI)',
  input: z.object({
    dataset: datasetRef,
    checks: z.array(qualityCheck).min(1),
    onFailure: z
      .enum(['fail', 'warn'])
      .default('fail')
      .describe("'fail' stops the run with DataQualityFailed; 'warn' reports and continues"),
  }),
  output: z.object({
    report: reportRef,
    passed: z.boolean(),
    failures: z.array(qualityFailure),
  }),
  options: { startToCloseTimeout: '30m', heartbeatTimeout: '1m' },
});
