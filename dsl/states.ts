// The states of runs, recorded steps and live nodes, defined once for the workflow, the store's
// schema (its SQL checks are generated from these lists), the CLI and the console.

/** A run's state in the store: `terminated` and `timed_out` come from Temporal, not from the run itself. */
export const runStates = ['running', 'succeeded', 'failed', 'cancelled', 'terminated', 'timed_out'] as const;
export type RunState = (typeof runStates)[number];

/** A recorded step's state: `cached` reused an earlier result; `skipped` never ran (a false condition). */
export const stepStates = ['running', 'succeeded', 'failed', 'cancelled', 'cached', 'skipped'] as const;
export type StepState = (typeof stepStates)[number];

/** The states a step ends in once the workflow has decided its outcome. */
export type StepOutcome = Extract<StepState, 'failed' | 'cancelled' | 'skipped'>;

/** A node's state while a run goes, as the status query shows it; `waiting` is an approval gate. */
export const nodeStates = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'] as const;
export type NodeState = (typeof nodeStates)[number];

/** A person's decision at an approval gate: what `kiln approve` records and sends, and what the run keeps. */
export interface Decision {
  gate: string;
  approved: boolean;
  /** The principal's name. */
  by: string;
  comment?: string;
}
