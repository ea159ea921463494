// What the model server needs from the store and the artifact store, as small interfaces: the
// server reaches both only through an implementation of these (store-source.ts), so the store can
// change shape without touching the server.

/** How a served alias routes requests: to its holder (`current`), and during a rollout a candidate too. */
export interface Routing {
  current: number;
  split: TrafficSplit | null;
}

/** `canary`: `percent` of the requests go to the candidate. `shadow`: every request goes to current and is mirrored to the candidate. */
export interface TrafficSplit {
  mode: 'canary' | 'shadow';
  candidate: number;
  percent: number;
  rollout: string | null;
}

/** A registered version's artifact and signature, ready to load into an engine. */
export interface VersionArtifact {
  model: string;
  version: number;
  /** `model`: a Kiln model document (JSON); `onnx`: an ONNX graph. */
  kind: string;
  sha256: string;
  signature: Record<string, unknown> | null;
  bytes: Uint8Array;
}

/** Which version answered a row, and how the split routed it. */
export type Route = 'current' | 'canary' | 'shadow';

/** One row of the prediction log. */
export interface PredictionRecord {
  requestId: string;
  rowIndex: number;
  model: string;
  version: number;
  route: Route;
  served: boolean;
  at: Date;
  features: Record<string, unknown>;
  probabilities: number[];
  label: string;
  latencyMs: number;
}

/** A request a version failed to score: a 500 to the caller, or a shadow that threw. */
export interface PredictionErrorRecord {
  requestId: string;
  model: string;
  version: number;
  route: Route;
  at: Date;
  /** The error's class name, e.g. `RangeError`. */
  errorType: string;
  message: string;
}

export interface ServingSource {
  /** undefined when the model has no such alias. */
  routing(model: string, alias: string): Promise<Routing | undefined>;
  loadVersion(model: string, version: number): Promise<VersionArtifact>;
  writePredictions(rows: readonly PredictionRecord[]): Promise<void>;
  writeErrors(rows: readonly PredictionErrorRecord[]): Promise<void>;
  /** Attaches true labels to logged rows of a request; returns the rows labelled (those the log has). */
  attachLabels(input: {
    model: string;
    requestId: string;
    labels: ReadonlyArray<{ row: number; label: string }>;
  }): Promise<number[]>;
}
