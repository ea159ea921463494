export { compile, planHash } from './compile';
export { resolveParams } from './params';
export { canonicalJson, sha256Hex } from './canonical';
export { PlanError } from './errors';
export { handle, isHandle, type Deep, type Handle, type Unwire, type Wire } from './handle';
export {
  cond,
  not,
  pipeline,
  type AnyPipeline,
  type ApprovalDecision,
  type Builder,
  type PipelineDef,
  type PipelineParams,
  type PipelineResult,
  type StepInputs,
} from './pipeline';
export type * from './plan';
export { DEFAULT_MAP_PARALLELISM, LIGHT_MAP_ITEMS } from './plan';
export { AUTO_VERSION, defineStep, type StepDef, type StepInput, type StepOutput } from './step';
export { validatePlan, type StepCatalog } from './validate';
export { allNodes, bindingSources, dependencies, nodeSources } from './graph';
export { durationMs, type Duration } from './duration';
export { FailureTypes, failureCatalogue, nonRetryableFailureTypes, type Failure, type FailureType } from './failures';
export {
  nodeStates,
  runStates,
  stepStates,
  type Decision,
  type NodeState,
  type RunState,
  type StepOutcome,
  type StepState,
} from './states';
