import type { z } from 'zod';
import type { StepDef } from '../dsl';
import type { Store } from '../store';
import type { ArtifactStore } from './artifacts/store';

/**
 * What a step may do with the store: read and write the registry, experiments and lineage, and
 * audit a refusal. Principals, tokens and the rest stay with the CLI and the worker.
 */
export const STEP_STORE_METHODS = [
  'appendAudit',
  'getModelVersion',
  'getRun',
  'getStep',
  'listDecisions',
  'principalByName',
  'promote',
  'recordArtifact',
  'recordArtifacts',
  'recordExperiment',
  'recordLineage',
  'recordTrial',
  'registerModelVersion',
] as const satisfies ReadonlyArray<keyof Store>;
export type StepStore = Pick<Store, (typeof STEP_STORE_METHODS)[number]>;

/** An external input of a step, identified by the hash of what was read. */
export interface SourceRef {
  kind: string;
  uri: string;
  sha256: string;
  size: number;
}

/** What a step implementation gets besides its input. */
export interface StepContext {
  artifacts: ArtifactStore;
  /** Reports progress; also how a long step learns of cancellation. */
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  log(message: string, fields?: Record<string, unknown>): void;
  /**
   * Declares something outside the artifact store that this step read (a file, a query result),
   * so lineage reaches the exact bytes: `{ kind: 'file', uri: 'file:///…', sha256, size }`.
   */
  readFrom(source: SourceRef): void;
  /** Which run and node this execution belongs to. */
  run: { workflowId: string; runId: string; pipeline: string; node: string };
  /**
   * The part of the store steps use (registry, experiments, lineage), when the worker has one.
   * Steps that only make sense with it fail with a clear error when it is absent.
   */
  store?: StepStore;
}

/** A step definition bound to the function that does its work. */
export interface StepImpl<D extends StepDef = StepDef> {
  def: D;
  run(input: z.output<D['input']>, ctx: StepContext): Promise<z.input<D['output']>>;
}

/** Binds a definition to its implementation, so that both sides of the types meet here. */
export const implement = <D extends StepDef>(def: D, run: StepImpl<D>['run']): StepImpl<D> => ({ def, run });

/** Throws the cancellation's reason (or an error naming the node) once the step has been cancelled; call it between chunks of work. */
export function stopIfCancelled(ctx: Pick<StepContext, 'signal' | 'run'>): void {
  if (ctx.signal.aborted)
    throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(`step '${ctx.run.node}' was cancelled`);
}
