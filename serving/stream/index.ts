export {
  startStreamScoring,
  subjectMatches,
  STREAM_HEADERS,
  type StreamCounts,
  type StreamScorer,
  type StreamScoringOptions,
} from './consumer';
export { parseEvent, StreamEventError } from './event';
export { streamSource } from './source';
export { durableNameFor, ensureStream, streamNameFor, StreamSetupError } from './topology';
