import { z } from 'zod';
import { qualityCheck } from '../../activities/data/quality-schema';
import { metricGate } from '../../activities/common/gates/schema';

// What `kiln check` runs besides compiling and type-checking: a pipeline's data checks on a sample
// file and its gates on a given model's metrics. Declared as `export const checks` in the pipeline
// module, or as the default export of `<name>.checks.ts` beside it (beside a JSON plan too).

/** Runs a `data.quality` step's checks (its own, or those given) on a sample CSV file. */
const dataCheck = z.strictObject({
  node: z
    .string()
    .min(1)
    .describe("the id of a data.quality step in the pipeline; its checks run unless 'checks' is given"),
  sample: z.string().min(1).describe('a CSV file below the project, relative to the project root'),
  label: z.string().min(1).optional().describe('a column that must exist and have no missing values'),
  checks: z.array(qualityCheck).min(1).optional(),
});

/** Holds a model's metrics to a `validate.gates` step's gates (its own, or those given). */
const modelCheck = z.strictObject({
  node: z
    .string()
    .min(1)
    .describe("the id of a validate.gates step in the pipeline; its gates apply unless 'gates' is given"),
  metrics: z
    .union([z.string().min(1), z.record(z.string(), z.number())])
    .describe("the model's metrics, or a JSON file below the project holding them (flat, or under 'metrics')"),
  gates: z.array(metricGate).min(1).optional(),
});

export const checksDeclaration = z.strictObject({
  data: z.array(dataCheck).default([]),
  models: z.array(modelCheck).default([]),
});
export type ChecksDeclaration = z.output<typeof checksDeclaration>;
export type DataCheck = ChecksDeclaration['data'][number];
export type ModelCheck = ChecksDeclaration['models'][number];

/**
 * Declares the data and model checks `kiln check` runs for a pipeline.
 * @example
 * export default defineChecks({
 *   data: [{ node: 'checkQuality', sample: 'examples/data/german-credit.csv' }],
 *   models: [{ node: 'checkGates', metrics: 'examples/checks/credit-risk-metrics.json' }],
 * });
 */
export const defineChecks = (declaration: z.input<typeof checksDeclaration>) => declaration;
