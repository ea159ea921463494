import type { z } from 'zod';
import type { StepDef } from '../dsl';
import type { AliasMove, Approval, AuditInput, Principal, Store } from '../store';
import type { ArtifactStore } from './artifacts/store';

/**
 * What a step may do with the store, by namespace: read and write the registry, experiments and
 * lineage. Principals, tokens and the rest stay with the CLI and the worker.
 */
export const STEP_STORE_METHODS = {
  runs: ['getRun'],
  steps: ['getStep', 'listSteps', 'recordLineage'],
  lineage: ['upstream'],
  artifacts: ['recordArtifact', 'recordArtifacts'],
  experiments: ['recordExperiment', 'recordTrial'],
  registry: ['getModelVersion', 'registerModelVersion'],
} as const satisfies { [N in keyof Store]?: ReadonlyArray<keyof Store[N]> };

/** A store method whose acting principal the worker has bound: a step has no argument to name one. */
type Bound<F> = F extends (actor: Principal, ...args: infer A) => infer R ? (...args: A) => R : never;
type Narrowed = typeof STEP_STORE_METHODS;

/**
 * The store a step gets (workers/step-store.ts builds it). Every method acts as a principal the
 * worker chose: the system for the run's own records, and for an alias move the principal whose
 * approval of the gate this run has on record.
 */
export type StepStore = {
  [N in keyof Narrowed]: { [M in Narrowed[N][number]]: Bound<Store[N][M & keyof Store[N]]> };
} & {
  registry: {
    /**
     * Points `alias` at `version` as the principal who approved `gate` of this run (the store's
     * record, not the run's copy), with that principal's current role; refused and audited when
     * the gate has no approval on record.
     */
    promote(
      name: string,
      version: number,
      alias: string,
      approval: { gate: string },
    ): Promise<AliasMove & { by: string }>;
  };
  /** This run's recorded decisions. */
  decisions: { listDecisions(): Promise<Approval[]> };
  audit: {
    /** Audits a refusal the step made itself (`access.denied`); nothing else. */
    appendAudit(event: AuditInput & { action: 'access.denied' }): Promise<void>;
    /** Audits (`dataset.read_sensitive`) that this run, as the principal who started it, read a dataset's sensitive columns. */
    readSensitive(dataset: { uri: string; sha256: string }, columns: string[]): Promise<void>;
  };
};

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
  /** The hash of the bundled code the worker loaded this step from (workers/step-modules.ts); `version: 'auto'` is this hash. */
  codeHash?: string;
}

/** Binds a definition to its implementation, so that both sides of the types meet here. */
export const implement = <D extends StepDef>(def: D, run: StepImpl<D>['run']): StepImpl<D> => ({ def, run });

/** Throws the cancellation's reason (or an error naming the node) once the step has been cancelled; call it between chunks of work. */
export function stopIfCancelled(ctx: Pick<StepContext, 'signal' | 'run'>): void {
  if (ctx.signal.aborted)
    throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(`step '${ctx.run.node}' was cancelled`);
}
