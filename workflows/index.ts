export { runPipeline, statusQuery, approveUpdate, decideSignal } from './run-pipeline';
export { rollout, rolloutStatusQuery, rolloutDecideUpdate, type RolloutDecision, type RolloutStatus } from './rollout';
export { monitorWindow, type MonitorWindowRequest, type MonitorWindowResult } from './monitor';
