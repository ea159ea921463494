import type { Decision, Failure, NodeState, StepOutcome } from '../dsl';
import type { PipelinePlan } from '../dsl/plan';

// The contract between the interpreter workflow and the worker's step activities. Types only.

/** What the workflow sends to a step activity. */
export interface StepRequest {
  input: unknown;
  context: {
    workflowId: string;
    runId: string;
    pipeline: string;
    planHash: string;
    /** Instance id of the node: `train`, or `trials[3].train` inside a map. */
    node: string;
    step: { name: string; version: string };
    cache: boolean;
  };
}

/** What a step activity returns. */
export interface StepEnvelope {
  output: Record<string, unknown>;
  /** Temporal's attempt number of the execution that succeeded. */
  attempt: number;
  /** Set when the output was reused from an earlier execution with the same cache key. */
  cached?: { runId: string; node: string };
}

export type StepActivity = (request: StepRequest) => Promise<StepEnvelope>;

/** What the workflow tells the worker as a run (or a continued run) begins. */
export interface BeginRequest {
  workflowId: string;
  temporalRunId: string;
  plan: PipelinePlan;
  params: Record<string, unknown>;
  /** A continuation after continue-as-new: the start is on record already. */
  resumed: boolean;
  /** The Temporal Schedule that started the run, if one did. */
  schedule?: string;
}

/** The worker's answer: the steps it has, and whether it records runs (then the finish is reported too). */
export interface RunBegun {
  steps: string[];
  recording: boolean;
}

/** A step's terminal outcome as the workflow decided it, for the worker to record. */
export interface StepOutcomeEvent {
  workflowId: string;
  node: string;
  step: { name: string; version: string };
  outcome: StepOutcome;
  /** The attempts the workflow saw; the store keeps the highest it has recorded. */
  attempts: number;
  error?: Failure;
}

/** How a run ended, for the worker to record. */
export interface RunEvent {
  event: 'finish';
  workflowId: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  error?: Failure;
}

export interface RunOptions {
  /** At most this many steps run at once; unbounded by default. */
  parallelism?: number;
  /** Set false to run every step even when a recorded result matches. */
  cache?: boolean;
  /** Continue as new once history grows past this many events (Temporal suggests it on its own too). */
  maxHistoryEvents?: number;
  /** Task queue for steps that name none; defaults to the workflow's own queue. */
  taskQueue?: string;
}

/** One node as the status query shows it. */
export interface NodeSnapshot {
  id: string;
  type: 'step' | 'approval' | 'map';
  step?: string;
  status: NodeState;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  output?: unknown;
  error?: Failure;
  cached?: { runId: string; node: string };
  skippedBecause?: string;
  /** For an approval gate: what the approver is shown, and since when it waits. */
  gate?: { name: string; show: Record<string, unknown>; since?: string; decision?: Decision };
  /** For a map: how many items it fanned out to. */
  items?: number;
  /** For a map: how many items have finished, counting those of earlier generations (whose nodes are not listed). */
  itemsDone?: number;
}

/** A run as the status query shows it. */
export interface RunSnapshot {
  pipeline: string;
  planHash: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  startedAt: string;
  /** How many times this run has continued as new. */
  generation: number;
  nodes: NodeSnapshot[];
  error?: Failure & { node?: string };
}

export interface RunResult {
  pipeline: string;
  planHash: string;
  output: unknown;
  nodes: NodeSnapshot[];
}

/** Some of a map's item results in the artifact store: a JSON list of `[index, value]` pairs. */
export interface ChunkRef {
  uri: string;
  sha256: string;
  size: number;
}

/**
 * A map's joined result kept in the artifact store (a JSON list of `count` values), so that a wide
 * map's results never ride in workflow history; a step that reads it gets the list itself.
 */
export interface ValuesRef {
  $kilnValues: { uri: string; sha256: string; size: number; count: number };
}

/** How far a map got before continue-as-new: which items finished, and where their results are. */
export interface MapProgress {
  /** Finished item indices as inclusive ranges. */
  done: Array<[number, number]>;
  chunks: ChunkRef[];
}

/** Carried across continue-as-new: finished nodes, decisions, and when the run began. */
export interface Carried {
  startedAt: string;
  generation: number;
  /** Finished nodes, less the items of maps below (their results are in `maps`). */
  finished: NodeSnapshot[];
  decisions: Decision[];
  /** Maps still in progress, by node instance id. */
  maps?: Record<string, MapProgress>;
}

export interface RunInput {
  plan: PipelinePlan;
  params?: Record<string, unknown>;
  options?: RunOptions;
  resume?: Carried;
  /** The id of the Temporal Schedule that starts this run (`kiln schedule`); kept across continue-as-new. */
  schedule?: string;
}

export type { Decision, PipelinePlan };
