export { runPipeline, statusQuery, approveUpdate, decideSignal } from './run-pipeline';
export { monitorWindow, type MonitorWindowRequest, type MonitorWindowResult } from './monitor';
