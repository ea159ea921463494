import type { z } from 'zod';
import type { StepOptions } from './plan';

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** A step definition: a named, versioned activity with typed input and output. */
export interface StepDef<I extends ObjectSchema = ObjectSchema, O extends ObjectSchema = ObjectSchema> {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly input: I;
  readonly output: O;
  readonly options: StepOptions;
  /**
   * Inputs that must be wired from a `p.approval` gate of the same run, never a literal or a
   * parameter: a step acting on a person's decision must get a decision the run really took.
   */
  readonly approvalInputs?: readonly string[];
  /**
   * A step that lives longer than an activity should (a rollout's canary window) runs as a child
   * workflow of this type, with the same request and result as an activity step.
   */
  readonly workflow?: string;
}

export type StepInput<D> = D extends StepDef<infer I, ObjectSchema> ? z.input<I> : never;
export type StepOutput<D> = D extends StepDef<ObjectSchema, infer O> ? z.output<O> : never;

/**
 * The version that follows the code: the worker caches and records the step under the hash of the
 * implementation it loaded, so editing the code never reuses results of the old code.
 * @example defineStep({ name: 'features.addRatio', version: AUTO_VERSION, input, output })
 */
export const AUTO_VERSION = 'auto';

const NAME = /^[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)*$/;

/**
 * Declares a step: its activity name, version (part of the cache key; `'auto'` is the hash of the
 * code that implements it), schemas and default options.
 * @example
 * export const split = defineStep({
 *   name: 'data.split', version: '1',
 *   input: z.object({ dataset: datasetRef, testFraction: z.number().gt(0).lt(1) }),
 *   output: z.object({ train: datasetRef, test: datasetRef }),
 * });
 */
export function defineStep<I extends ObjectSchema, O extends ObjectSchema>(def: {
  name: string;
  version: string;
  description?: string;
  input: I;
  output: O;
  options?: StepOptions;
  approvalInputs?: readonly string[];
  workflow?: string;
}): StepDef<I, O> {
  if (!NAME.test(def.name)) {
    throw new Error(`step name '${def.name}' must be dotted camelCase words, such as 'data.readCsv'`);
  }
  return { ...def, options: def.options ?? {} };
}
