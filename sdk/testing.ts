// Testing a step without servers: `import { StepTestEnvironment } from 'kiln/testing'`, the way
// Temporal's MockActivityEnvironment tests an activity.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../activities/artifacts/store';
import type { SourceRef, StepContext, StepImpl } from '../activities/library';
import { loadDataset, writeDataset, type Column, type Dataset, type Row } from '../activities/common/dataset/dataset';
import type { Cell } from '../activities/common/dataset/cells';
import type { DatasetRef } from '../activities/refs';
import type { StepDef } from '../dsl/step';

/** A log line a step wrote through `ctx.log`. */
export interface LoggedLine {
  message: string;
  fields?: Record<string, unknown>;
}

/**
 * Runs one step implementation in isolation: a throwaway artifact store (a temp folder), and a
 * context that records the step's heartbeats, log lines and declared sources. Input and output
 * are checked against the step's schemas, as a worker checks them.
 * @example
 * const env = await StepTestEnvironment.create();
 * const input = await env.dataset([{ name: 'x', type: 'number' }], [[1], [2]]);
 * const { dataset } = await env.run(addRatio, { dataset: input, over: 'x', under: 'x' });
 * assert.deepEqual((await env.readDataset(dataset)).rows, [{ x: 1, ratio: 1 }, { x: 2, ratio: 1 }]);
 * await env.dispose();
 */
export class StepTestEnvironment {
  /** Every `ctx.heartbeat(details)` the step sent, in order. */
  readonly heartbeats: unknown[] = [];
  /** Every `ctx.log(message, fields)` line. */
  readonly logs: LoggedLine[] = [];
  /** Every source the step declared with `ctx.readFrom`. */
  readonly sources: SourceRef[] = [];
  private abort = new AbortController();

  private constructor(
    /** The artifact store the step reads and writes. */
    readonly artifacts: ArtifactStore,
    private readonly root: string,
  ) {}

  /**
   * A fresh environment with an empty artifact store.
   * @example const env = await StepTestEnvironment.create();
   */
  static async create(): Promise<StepTestEnvironment> {
    const root = await mkdtemp(join(tmpdir(), 'kiln-step-test-'));
    return new StepTestEnvironment(new ArtifactStore(join(root, 'artifacts')), root);
  }

  /**
   * Writes rows as a dataset in this environment's store, to give a step as input.
   * @example const input = await env.dataset([{ name: 'wage', type: 'number' }], [{ wage: 9.5 }]);
   */
  dataset(columns: readonly Column[], rows: Iterable<Row | Cell[]>): Promise<DatasetRef> {
    return writeDataset(this.artifacts, columns, rows);
  }

  /**
   * Reads a dataset a step wrote: its columns and rows keyed by column name.
   * @example const { rows } = await env.readDataset(output.dataset);
   */
  readDataset(ref: DatasetRef): Promise<Dataset> {
    return loadDataset(this.artifacts, ref);
  }

  /**
   * Cancels the step as a cancelled run would: `ctx.signal` aborts, and `stopIfCancelled` throws.
   * @example env.cancel(); await assert.rejects(env.run(step, input), /cancelled/);
   */
  cancel(reason: unknown = new Error('the step was cancelled')): void {
    this.abort.abort(reason);
  }

  /**
   * Runs the step with `input` (checked against its input schema) and returns its output
   * (checked against its output schema); rejects with whatever the step throws.
   * @example const out = await env.run(addRatio, { dataset, over: 'a', under: 'b' });
   */
  async run<D extends StepDef>(
    impl: StepImpl<D>,
    input: z.input<D['input']>,
    run: Partial<StepContext['run']> = {},
  ): Promise<z.output<D['output']>> {
    const parsed = impl.def.input.safeParse(input);
    if (!parsed.success)
      throw new Error(`step '${impl.def.name}': invalid input: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
    const ctx: StepContext = {
      artifacts: this.artifacts,
      heartbeat: (details) => {
        this.heartbeats.push(details);
      },
      signal: this.abort.signal,
      log: (message, fields) => {
        this.logs.push(fields ? { message, fields } : { message });
      },
      readFrom: (source) => {
        this.sources.push(source);
      },
      run: { workflowId: 'test-workflow', runId: 'test-run', pipeline: 'test', node: impl.def.name, ...run },
    };
    const output = impl.def.output.safeParse(await impl.run(parsed.data as z.output<D['input']>, ctx));
    if (!output.success)
      throw new Error(`step '${impl.def.name}': invalid output: ${z.prettifyError(output.error).replace(/\n/g, '; ')}`);
    return output.data as z.output<D['output']>;
  }

  /** Removes the environment's artifact store. */
  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
