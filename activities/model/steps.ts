import { z } from 'zod';
import { defineStep } from '../../dsl';
import { datasetRef, modelRef, onnxRef, onnxSignature } from '../refs';

// Definitions only (zod, dsl, refs): pipelines import these; implementations live beside them.

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

/** The column of the predicted class (or value, for a regressor) in a scored dataset. */
export const PREDICTION_COLUMN = 'prediction';

/** The column of one class's probability in a scored dataset: `p_bad` for the class 'bad'. */
export const probabilityColumn = (cls: string): string => `p_${cls}`;

/**
 * Scores every row of a dataset with a model, streaming: the input's columns in its row order,
 * then `prediction` and, for a classifier, one `p_<class>` probability column per class. A binary
 * model predicts its positive class when that class's probability is at or above `threshold`; a
 * multiclass model predicts the most probable class (the threshold does not apply). Engine 'kiln'
 * runs the model's own transform and forward pass, as evaluation does; 'onnx' runs the exported
 * graph (exported on the fly from a Kiln model, or an ONNX model as given) in onnxruntime-node.
 * A value the transform cannot read fails the step, naming the row and column.
 * @example const scored = p.step(scoreModel, { model: trained.model, dataset: applicants.dataset, threshold: 0.4 });
 */
export const scoreModel = defineStep({
  name: 'model.score',
  version: '1',
  description: "Batch scoring: a dataset of predictions and class probabilities, in the input's row order",
  input: z.object({
    model: z
      .union([modelRef, onnxRef])
      .describe('a trained model, or an ONNX model (exported or imported) to score with engine onnx'),
    dataset: datasetRef,
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe('binary: the positive class is predicted at or above this probability'),
    engine: z
      .enum(['kiln', 'onnx'])
      .default('kiln')
      .describe("kiln: the trainer's forward pass in JavaScript; onnx: the ONNX graph in onnxruntime-node"),
  }),
  output: z.object({
    predictions: datasetRef,
    summary: z.object({
      rows: z.number().int().nonnegative(),
      byClass: z
        .record(z.string(), z.number().int().nonnegative())
        .optional()
        .describe('rows predicted as each class; absent for a regressor'),
    }),
  }),
  options: { startToCloseTimeout: '2h', heartbeatTimeout: '1m' },
});

/** A file a step wrote outside the artifact store, named by the sha256 of its bytes so lineage can hold it. */
const fileRef = z.object({
  kind: z.literal('file'),
  uri: z.string().describe('file:///absolute/path'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
});

/** A PostgreSQL table a step wrote, named by the sha256 of the rows it wrote there (one line of JSON per row, after the column names). */
const tableRef = z.object({
  kind: z.literal('table'),
  uri: z.string().describe('postgres://host:port/database?table=schema.name&run=<run id>; never a user or password'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
});

const identifier = '[a-z_][a-z0-9_]{0,62}';
/** A table as `name` or `schema.name`: lowercase identifiers only, so no quoting surprises and no SQL in a name. */
export const tableName = z
  .string()
  .regex(
    new RegExp(`^${identifier}(\\.${identifier})?$`),
    "a table as 'name' or 'schema.name': lowercase letters, digits and underscores, starting with a letter or underscore, at most 63 each",
  );

/** `name@alias` or `name@version`: a registered model as `kiln serve` and `kiln stream` name it. */
export const registeredModel = z
  .string()
  .regex(
    /^[A-Za-z0-9][\w.-]*@[\w.-]+$/,
    "a registered model as 'name@alias' or 'name@version', e.g. credit-risk@production",
  );

/**
 * Scores a dataset with the registered version `model` names when the step runs (an alias
 * follows its moves between scheduled runs), and writes the scored rows as a CSV file when
 * `output` is given and into a PostgreSQL table when `table` is. The table is created if missing
 * with typed columns, and each row carries `kiln_run` (the run's id), `kiln_model`,
 * `kiln_version` and `kiln_row` (its order in the dataset). One transaction deletes the rows a
 * previous attempt of this run wrote (all rows, with mode 'replace') and inserts the run's rows:
 * a reader sees the whole run or none of it, and runs coexist under 'append'. Lineage runs from
 * the version's model artifact and the input dataset to the scored dataset, the file and the table.
 * For batch scoring on a schedule (`kiln schedule create --cron`).
 * @example const scored = p.step(scoreRegistered, { model: 'credit-risk@production', dataset: raw.dataset, output: 'scored/credit.csv' });
 * @example p.step(scoreRegistered, { model: 'credit-risk@production', dataset: raw.dataset, table: { name: 'scores' } });
 */
export const scoreRegistered = defineStep({
  name: 'model.scoreRegistered',
  version: '2',
  description:
    'Batch scoring with a registered model (name@alias), written with lineage to a dataset, a CSV file and a PostgreSQL table',
  input: z.object({
    model: registeredModel,
    dataset: datasetRef,
    threshold: z.number().min(0).max(1).default(0.5),
    engine: z.enum(['kiln', 'onnx']).default('kiln'),
    output: z
      .string()
      .regex(/\.csv$/i, 'a path ending in .csv')
      .optional()
      .describe("a CSV file to write, below the worker's data roots; replaced whole on each run"),
    table: z
      .object({
        name: tableName,
        url: z
          .string()
          .optional()
          .describe(
            "postgres://user@host:port/database, without a password, on a host the worker's KILN_SOURCE_HOSTS lists; default the worker's KILN_SOURCE_DATABASE_URL",
          ),
        mode: z
          .enum(['append', 'replace'])
          .default('append')
          .describe("append: earlier runs' rows stay; replace: after the run the table holds its rows only"),
      })
      .optional()
      .describe('a PostgreSQL table to write the scored rows into, created if missing'),
  }),
  output: z.object({
    model: z.object({ name: z.string(), version: z.number().int().positive(), sha256: z.string() }),
    predictions: datasetRef,
    written: fileRef.optional().describe('the CSV file, by the sha256 of the bytes written'),
    table: tableRef.optional().describe('the table, by the sha256 of the rows this run wrote'),
    summary: z.object({
      rows: z.number().int().nonnegative(),
      byClass: z.record(z.string(), z.number().int().nonnegative()).optional(),
    }),
  }),
  // The alias and the input change between runs: each run scores afresh.
  options: { startToCloseTimeout: '2h', heartbeatTimeout: '1m', cache: false },
});
