export { openStore, type Store, type StoreOptions } from './db';
export { migrate, migrationsFolder } from './migrate';
export { AccessDeniedError, AuthenticationError, ConflictError, NotFoundError } from './errors';
export { StoreLockedError, StoreSharedError } from './pglite-lock';
export { SYSTEM, actionRoles, can, tokenSha256, type Action, type CreatedToken, type Principal } from './access';
export { GENESIS_HASH, auditHash, type AuditInput, type AuditQuery, type AuditVerification } from './audit';
export { cacheKey } from './cache-key';
export { gitCodeVersion } from './code-version';
export type { ArtifactInput } from './artifacts';
export type { CodeVersion, RunCursor, RunFinish, RunPageQuery, RunStart } from './runs';
export type { CacheHitInput, CachedResult, StepFinish, StepIdentity, StepStart } from './steps';
export type { Endpoint, LineageInput, StepRef } from './lineage/record';
export {
  nodeId,
  parseLineageTarget,
  type LineageEdgeView,
  type LineageGraph,
  type LineageNode,
  type LineageTarget,
} from './lineage/graph';
export type { LineageOptions } from './lineage/query';
export { renderLineage } from './lineage/render';
export type { AliasMove, ModelSummary, ModelVersionInfo, RegisterModelVersion } from './registry';
export type { DeploymentInput, GateDecision } from './decisions';
export type { TrialInput } from './experiments';
export type {
  Artifact,
  AuditEvent,
  Approval,
  Deployment,
  Experiment,
  ModelVersion,
  Run,
  RunState,
  StepExecution,
  StepState,
  Trial,
  RoleName,
} from './schema';
