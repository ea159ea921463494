export { runPipeline, statusQuery, approveUpdate, decideSignal } from './run-pipeline';
