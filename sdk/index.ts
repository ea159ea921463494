// Kiln's public entry point: `import { pipeline, defineStep, implement } from 'kiln'`. Everything a
// user's pipeline or step module needs, re-exported from where it lives, with the docs a user reads.
import { ApplicationFailure } from '@temporalio/common';
import { compile as compilePipeline } from '../dsl/compile';
import { defineStep as defineStepDef } from '../dsl/step';
import { cond as condition, not as negation, pipeline as definePipeline } from '../dsl/pipeline';
import {
  FailureTypes as failureTypes,
  failureCatalogue as catalogue,
  nonRetryableFailureTypes as nonRetryableTypes,
  type FailureType,
} from '../dsl/failures';
import { implement as implementStep, stopIfCancelled as stopWhenCancelled } from '../activities/library';
import {
  loadColumns as loadByColumns,
  loadDataset as loadAll,
  readDatasetValues as readValues,
  streamRows as rows,
  writeColumns as writeByColumns,
  writeDataset as write,
} from '../activities/common/dataset/dataset';
import {
  columnType as columnTypeSchema,
  datasetRef as datasetSchema,
  modelRef as modelSchema,
  reportRef as reportSchema,
  transformRef as transformSchema,
} from '../activities/refs';
import type { ProjectConfig } from '../runtime/project-config';

/**
 * Zod, the schema library step inputs, outputs and pipeline parameters are written in: the same
 * copy Kiln checks them with.
 * @example const input = z.object({ dataset: datasetRef, column: z.string() });
 */
export { z } from 'zod';

/**
 * Declares a pipeline: a name, typed parameters, and a body that wires steps into a DAG.
 * @example
 * export default pipeline({ name: 'wages', params: z.object({ data: z.string() }) }, (p, params) => {
 *   const raw = p.step(readCsv, { path: params.data });
 *   return { rows: raw.dataset };
 * });
 */
export const pipeline = definePipeline;

/**
 * Compiles a pipeline into its plan (the JSON the workflow runs), checking its wiring: what
 * `kiln plan` prints, for tests of a pipeline's shape.
 * @example assert.equal(compile(myPipeline).nodes.length, 3);
 */
export const compile = compilePipeline;

/**
 * Compares a step's output (or a parameter) with a value, for a `p.when` branch.
 * @example p.when(cond(metrics.auc, '>=', 0.75), () => { p.step(register, { model }) });
 */
export const cond = condition;

/**
 * Negates a boolean handle, for a `p.when` branch.
 * @example p.when(not(params.dryRun), () => { p.step(deploy, { model }) });
 */
export const not = negation;

/**
 * Declares a step: its name, version (part of the cache key; `'auto'` is the hash of the code
 * that implements it), input and output schemas, and default options.
 * @example
 * export const addRatio = defineStep({
 *   name: 'features.addRatio', version: 'auto',
 *   input: z.object({ dataset: datasetRef, over: z.string(), under: z.string() }),
 *   output: z.object({ dataset: datasetRef }),
 * });
 */
export const defineStep = defineStepDef;

/**
 * Binds a step definition to the function that does its work; the worker runs the result.
 * @example
 * export default [implement(addRatio, async ({ dataset }, ctx) => ({ dataset: await writeDataset(ctx.artifacts, columns, rows) }))];
 */
export const implement = implementStep;

/**
 * Throws once the step has been cancelled (the run was cancelled or the step timed out); call it between chunks of work.
 * @example for await (const row of readRows(ctx.artifacts, dataset)) { stopIfCancelled(ctx); ... }
 */
export const stopIfCancelled = stopWhenCancelled;

/**
 * The schema of a dataset reference (an immutable, content-addressed table); use it in step inputs and outputs.
 * @example input: z.object({ dataset: datasetRef })
 */
export const datasetRef = datasetSchema;

/**
 * The schema of a trained model reference.
 * @example input: z.object({ model: modelRef, test: datasetRef })
 */
export const modelRef = modelSchema;

/**
 * The schema of a fitted feature transform reference.
 * @example input: z.object({ transform: transformRef })
 */
export const transformRef = transformSchema;

/**
 * The schema of a report reference (metrics, quality results) stored as an artifact.
 * @example output: z.object({ report: reportRef })
 */
export const reportRef = reportSchema;

/**
 * The column types a dataset holds: number, integer, boolean, string.
 * @example const columns = [{ name: 'ratio', type: 'number' as ColumnType }];
 */
export const columnType = columnTypeSchema;

/**
 * Streams a dataset's rows as objects keyed by column name, without loading it whole.
 * @example for await (const row of readRows(ctx.artifacts, dataset)) total += Number(row.wage);
 */
export const readRows = rows;

/**
 * Streams a dataset as its header (the columns) then each row as an array in column order.
 * @example for await (const item of readValues(ctx.artifacts, dataset)) if (Array.isArray(item)) n++;
 */
export const readDatasetValues = readValues;

/**
 * Reads a whole dataset into memory: its columns and its rows keyed by column name.
 * @example const { columns, rows } = await loadDataset(ctx.artifacts, dataset);
 */
export const loadDataset = loadAll;

/**
 * Writes rows (arrays in column order or objects by name, from any sync or async source) as a dataset artifact and returns its reference.
 * @example const out = await writeDataset(ctx.artifacts, [{ name: 'x', type: 'number' }], [[1], [2]]);
 */
export const writeDataset = write;

/**
 * Reads a dataset's columns whole (all, or those named): numbers in Float64Arrays with NaN where missing,
 * other types as arrays of cells. The fast way through big datasets: no object per row.
 * @example const { values } = await loadColumns(ctx.artifacts, dataset, ['wage']); const wage = values.get('wage') as Float64Array;
 */
export const loadColumns = loadByColumns;

/**
 * Writes whole columns (as loadColumns gives them) as a dataset artifact; the same data as writeDataset gives the same hash.
 * @example const out = await writeColumns(ctx.artifacts, [{ name: 'x', type: 'number' }], [Float64Array.of(1, 2)], 2);
 */
export const writeColumns = writeByColumns;

/**
 * Every failure type Kiln reports, with whether a retry can fix it and what it means.
 * @example failureCatalogue.InvalidData.retryable === false
 */
export const failureCatalogue = catalogue;

/**
 * Failure types by name, so that a typo fails `tsc`.
 * @example throw fail(FailureTypes.InvalidData, "column 'wage' is missing");
 */
export const FailureTypes = failureTypes;

/**
 * The failure types no retry can fix, for a step's `retry.nonRetryableErrorTypes`.
 * @example p.step(train, inputs, { retry: { nonRetryableErrorTypes: [...nonRetryableFailureTypes] } });
 */
export const nonRetryableFailureTypes = nonRetryableTypes;

/**
 * A failure of one of Kiln's types, for a step to throw: non-retryable when the catalogue says
 * no retry can fix it (bad input fails the step at once), retryable otherwise. The message names
 * what is wrong and where; `details` carries the numbers.
 * @example throw fail(FailureTypes.InvalidData, `row 3 has no value for 'hours'`, { row: 3 });
 */
export function fail(type: FailureType, message: string, details: Record<string, unknown> = {}): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable: !catalogue[type].retryable,
    details: [details],
  });
}

/**
 * Types a `kiln.config.ts` at the project root: the step modules, pipelines and defaults that
 * `kiln dev`, `kiln worker` and `kiln run` share.
 * @example export default defineConfig({ steps: ['steps/features.ts'], pipelines: ['pipelines/wages.ts'] });
 */
export const defineConfig = (config: ProjectConfig): ProjectConfig => config;

export * from '../activities/steps';
export type { ProjectConfig } from '../runtime/project-config';
export type { StepContext, StepImpl, SourceRef } from '../activities/library';
export type { StepDef, StepInput, StepOutput } from '../dsl/step';
export type { AnyPipeline, Builder, PipelineDef, PipelineResult } from '../dsl/pipeline';
export type { Column, Row, Dataset, ColumnarDataset, ColumnValues } from '../activities/common/dataset/dataset';
export type { Cell } from '../activities/common/dataset/cells';
export type { ArtifactStore } from '../activities/artifacts/store';
export type { FailureType, Failure } from '../dsl/failures';
export type { Duration } from '../dsl/duration';
export type { Handle } from '../dsl/handle';
export type { PipelinePlan, StepOptions } from '../dsl/plan';
