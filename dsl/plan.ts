import type { Duration } from './duration';

/** Where a value in a plan comes from; resolved by the interpreter when the node is ready. */
export type Source =
  | { kind: 'ref'; node: string; path: string[] }
  | { kind: 'param'; name: string; path: string[] }
  | { kind: 'item'; map: string; path: string[] }
  | { kind: 'index'; map: string };

/** A step input as data: a literal, a source, or a structure holding sources. */
export type Binding =
  | { kind: 'literal'; value: unknown }
  | { kind: 'source'; source: Source }
  | { kind: 'object'; fields: Record<string, Binding> }
  | { kind: 'array'; items: Binding[] };

export type CompareOp = 'truthy' | 'falsy' | '==' | '!=' | '>' | '>=' | '<' | '<=';

/** A condition under which a node runs; a node whose conditions fail is skipped. */
export interface Condition {
  source: Source;
  op: CompareOp;
  value?: unknown;
}

export type { Duration } from './duration';

export interface RetryOptions {
  maximumAttempts?: number;
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  nonRetryableErrorTypes?: string[];
}

export interface StepOptions {
  retry?: RetryOptions;
  startToCloseTimeout?: Duration;
  scheduleToCloseTimeout?: Duration;
  heartbeatTimeout?: Duration;
  taskQueue?: string;
  /** Reuse a recorded result for identical inputs; on by default where a store records runs. */
  cache?: boolean;
  /**
   * Run as a Temporal local activity in the workflow's own worker, skipping the task queue: for
   * cheap steps (gates, selections) of milliseconds. Retries, timeouts, recording and caching
   * stay; heartbeats do not, and a step given its own `taskQueue` runs as a regular activity, as
   * does one inside a map of more than LIGHT_MAP_ITEMS items.
   */
  light?: boolean;
}

interface NodeBase {
  id: string;
  when?: Condition[];
}

export interface StepNode extends NodeBase {
  type: 'step';
  step: { name: string; version: string };
  inputs: Record<string, Binding>;
  /** Top-level keys of the step's output object, for checking references. */
  outputKeys?: string[];
  options: StepOptions;
  /** Nodes to wait for without reading their values. */
  after?: Source[];
  /** Runs as a child workflow of this type instead of an activity (StepDef.workflow). */
  workflow?: string;
}

export interface ApprovalNode extends NodeBase {
  type: 'approval';
  gate: string;
  /** Values resolved and shown to whoever decides, such as the metrics under review. */
  show: Record<string, Binding>;
  after: Source[];
  timeout?: Duration;
}

/**
 * Items of a map that run at once when the map names no parallelism: a list sized at run time
 * must not schedule thousands of steps in one go.
 */
export const DEFAULT_MAP_PARALLELISM = 64;

/**
 * Local activities' results all ride in the workflow task that ran them: thousands of light items
 * would outgrow the 4 MB a task completion may send, and continue-as-new is only suggested between
 * tasks. Past this many items a map runs its light steps as regular activities.
 */
export const LIGHT_MAP_ITEMS = 500;

export interface MapNode extends NodeBase {
  type: 'map';
  over: Binding;
  nodes: PlanNode[];
  output: Binding;
  /** Items that run at once; DEFAULT_MAP_PARALLELISM when absent. */
  parallelism?: number;
}

export type PlanNode = StepNode | ApprovalNode | MapNode;

export interface ParamSpec {
  type?: string;
  default?: unknown;
  required: boolean;
  description?: string;
}

export interface PipelinePlan {
  kind: 'kiln.plan';
  formatVersion: 1;
  name: string;
  version: string;
  description?: string;
  params: Record<string, ParamSpec>;
  nodes: PlanNode[];
  output?: Binding;
  defaults: StepOptions & { parallelism?: number };
  /** sha256 of the plan's canonical JSON without this field. */
  hash: string;
}

export const planWithoutHash = ({ hash: _hash, ...rest }: PipelinePlan) => rest;
