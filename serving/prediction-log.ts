import { defaultHashKey, keyedHash } from '../activities/common/keyed-hash';
import type { PredictionErrorRecord, PredictionRecord, Route } from './source';

// The prediction log, off the request path: a request appends one entry (a reference to its rows
// and outputs, no copying), and a timer or a full buffer writes them to the store in batches.
// Sensitive fields are hashed at write time, not on the request path.

export interface PredictionLogOptions {
  /** The share of requests logged, 0 to 1; default 1 (every request). */
  sample?: number;
  /** Rows per write; default 1000. */
  batchSize?: number;
  /** Longest time a row waits to be written; default 1000 ms. */
  flushMs?: number;
  /**
   * Batches written at once, at most; default 1. More than one only for a writer that takes rows in
   * any order and skips rows it holds (kiln stream's), since a failed batch is written again later.
   */
  writers?: number;
  /** Rows held while the store is slow or down; past this, new rows are dropped (and counted). Default 100,000. */
  maxPending?: number;
  /**
   * The HMAC key for sensitive fields. Default: $KILN_LOG_HASH_KEY, else a random key per process,
   * which keeps values out of the log but makes hashes comparable only within one server's life.
   */
  hashKey?: string;
}

/** One scored request (or its shadow), as the handler hands it over. */
export interface LogEntry {
  /** Optional: an entry without a kind is a scored request. */
  kind?: 'scored';
  requestId: string;
  model: string;
  version: number;
  route: Route;
  served: boolean;
  at: Date;
  rows: readonly Record<string, unknown>[];
  outputs: readonly { probabilities: number[]; label: string }[];
  latencyMs: number;
  /** Field names logged as keyed hashes. */
  sensitive: ReadonlySet<string>;
}

/** A request a version failed to score (a 500, or a shadow that threw): one row of the error log. */
export interface ErrorEntry {
  kind: 'error';
  requestId: string;
  model: string;
  version: number;
  route: Route;
  at: Date;
  error: unknown;
}

type Pending = LogEntry | ErrorEntry;

/** The rows an entry writes: its input rows, or the one row of an error. */
const sizeOf = (e: Pending) => (e.kind === 'error' ? 1 : e.rows.length);

export interface PredictionLogEvents {
  written(rows: number): void;
  dropped(rows: number): void;
  failed(rows: number, error: unknown): void;
}

export class PredictionLog {
  private pending: Pending[] = [];
  private pendingRows = 0;
  private readonly writing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly sample: number;
  private readonly batchSize: number;
  private readonly flushMs: number;
  private readonly writers: number;
  private readonly maxPending: number;
  private readonly hashKey: string;

  constructor(
    private readonly write: (rows: readonly PredictionRecord[]) => Promise<void>,
    private readonly events: PredictionLogEvents,
    options: PredictionLogOptions = {},
    /** Where error entries go; a log without it refuses them. */
    private readonly writeErrors?: (rows: readonly PredictionErrorRecord[]) => Promise<void>,
  ) {
    this.sample = options.sample ?? 1;
    if (!(this.sample >= 0 && this.sample <= 1))
      throw new RangeError(`prediction log: sample must be from 0 to 1, got ${options.sample}`);
    this.batchSize = options.batchSize ?? 1000;
    this.flushMs = options.flushMs ?? 1000;
    this.writers = options.writers ?? 1;
    if (!(Number.isInteger(this.writers) && this.writers >= 1))
      throw new RangeError(`prediction log: writers must be a whole number from 1, got ${options.writers}`);
    this.maxPending = options.maxPending ?? 100_000;
    this.hashKey = options.hashKey ?? defaultHashKey();
  }

  /** Whether to log this request: decided once per request, so a shadow is logged with its current. */
  sampled(): boolean {
    return this.sample >= 1 || Math.random() < this.sample;
  }

  /** Queues a scored request's rows, or a request a version failed to score (`kind: 'error'`). */
  add(entry: Pending): void {
    if (entry.kind === 'error' && !this.writeErrors)
      throw new Error('this prediction log was made without an error writer; pass one to log scoring failures');
    const size = sizeOf(entry);
    if (this.pendingRows + size > this.maxPending) {
      this.events.dropped(size);
      return;
    }
    this.pending.push(entry);
    this.pendingRows += size;
    if (this.pendingRows >= this.batchSize) void this.drain();
    else this.timer ??= setTimeout(this.onTimer, this.flushMs).unref();
  }

  /** Writes everything added so far; resolves when it is in the store (or the write failed and was kept). */
  async flush(): Promise<void> {
    await Promise.all(this.writing);
    if (this.pendingRows > 0) await this.drain();
    await Promise.all(this.writing);
  }

  /** A keyed hash of a value: equal values hash equal, and the value cannot be read back without the key. */
  hash(value: unknown): string | null {
    return keyedHash(this.hashKey, value);
  }

  // A fired timer is forgotten first: when it fires during a write, the write's end must be free
  // to set the next one, or the rows added meanwhile wait for a full batch that may never come.
  private readonly onTimer = () => {
    this.timer = undefined;
    void this.drain();
  };

  // Rows added while every writer is busy wait for one to finish: a full batch is written then at
  // once, a partial one after flushMs.
  private drain(): Promise<void> {
    if (this.writing.size >= this.writers) return Promise.race(this.writing);
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return Promise.resolve();
    const entries = this.pending;
    const count = this.pendingRows;
    this.pending = [];
    this.pendingRows = 0;
    const write: Promise<void> = this.writeEntries(entries, count).finally(() => {
      this.writing.delete(write);
      if (this.pendingRows >= this.batchSize) void this.drain();
      else if (this.pendingRows > 0) this.timer ??= setTimeout(this.onTimer, this.flushMs).unref();
    });
    this.writing.add(write);
    return write;
  }

  // Predictions first, then errors: when only the errors fail, only they are kept, so no
  // prediction is written twice.
  private async writeEntries(entries: Pending[], count: number): Promise<void> {
    const scored: LogEntry[] = [];
    const errors: ErrorEntry[] = [];
    for (const e of entries)
      if (e.kind === 'error') errors.push(e);
      else scored.push(e);
    let unwritten: Pending[] = entries;
    try {
      if (scored.length > 0) await this.write(scored.flatMap((e) => this.records(e)));
      unwritten = errors;
      if (errors.length > 0) await this.writeErrors!(errors.map(errorRecord));
      this.events.written(count);
    } catch (error) {
      const kept = unwritten.reduce((n, e) => n + sizeOf(e), 0);
      if (kept < count) this.events.written(count - kept);
      this.events.failed(kept, error);
      // Kept for the next write, ahead of newer rows, as long as they fit.
      if (this.pendingRows + kept <= this.maxPending) {
        this.pending = [...unwritten, ...this.pending];
        this.pendingRows += kept;
      } else this.events.dropped(kept);
    }
  }

  private records(e: LogEntry): PredictionRecord[] {
    return e.rows.map((row, i) => ({
      requestId: e.requestId,
      rowIndex: i,
      model: e.model,
      version: e.version,
      route: e.route,
      served: e.served,
      at: e.at,
      features: this.masked(row, e.sensitive),
      probabilities: e.outputs[i]!.probabilities,
      label: e.outputs[i]!.label,
      latencyMs: e.latencyMs,
    }));
  }

  private masked(row: Record<string, unknown>, sensitive: ReadonlySet<string>): Record<string, unknown> {
    if (sensitive.size === 0) return row;
    // fromEntries defines own properties: a key named __proto__ stays data, never a prototype.
    return Object.fromEntries(
      Object.entries(row).map(([key, value]) => [key, sensitive.has(key) ? this.hash(value) : value]),
    );
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

function errorRecord(e: ErrorEntry): PredictionErrorRecord {
  const error = e.error instanceof Error ? e.error : new Error(String(e.error));
  return {
    requestId: e.requestId,
    model: e.model,
    version: e.version,
    route: e.route,
    at: e.at,
    errorType: error.name,
    message: error.message.slice(0, 500),
  };
}
