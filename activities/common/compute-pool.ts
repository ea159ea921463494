import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { defaultFailureConverter, defaultPayloadConverter, type ProtoFailure } from '@temporalio/common';
import { Piscina } from 'piscina';

// CPU-heavy work (training) runs on worker threads, so the worker's event loop stays free for
// status queries, workflow tasks, heartbeats and cancellation while it computes.

/** What a compute task gets: its input, and a port on which it may post progress. */
export interface ComputeTask<I> {
  input: I;
  progress: MessagePort;
}

/** A task's answer: its output, or its error as a Temporal failure (an error's class and `type` do not survive a thread boundary). */
type Outcome<O> = { output: O } | { failure: ProtoFailure };

/**
 * Wraps a function as a pool task, to export from a thread module: it reports progress through
 * `progress(details)`, and a typed failure it throws (InvalidData, a gate) reaches the step as thrown.
 * @example export const fitDense = computeTask(async (input: FitInput, progress) => fit(input, progress));
 */
export const computeTask =
  <I, O>(fn: (input: I, progress: (details: unknown) => void) => Promise<O>) =>
  async ({ input, progress }: ComputeTask<I>): Promise<Outcome<O>> => {
    progress.postMessage(STARTED);
    try {
      return { output: await fn(input, (details) => progress.postMessage(details)) };
    } catch (error) {
      return { failure: defaultFailureConverter.errorToFailure(error, defaultPayloadConverter) };
    } finally {
      progress.close();
    }
  };

/** How long the main thread waits between liveness heartbeats while a task computes. */
const LIVENESS_MS = 1000;

/** What a task posts first, when a thread takes it from the queue: from then on it is expected to progress. */
const STARTED = 'kiln.compute.started';

/**
 * How long a started task may go without progress before the main thread stops vouching for it:
 * KILN_COMPUTE_STALL_MS, default 10 minutes. Its heartbeats then stop, the step's heartbeat
 * timeout fires, and Temporal retries it, instead of a stuck thread holding the step until its
 * start-to-close limit.
 */
export function computeStallMs(value = process.env.KILN_COMPUTE_STALL_MS): number {
  if (value === undefined || value === '') return 10 * 60_000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1)
    throw new Error(`KILN_COMPUTE_STALL_MS must be a whole number of milliseconds, not '${value}'`);
  return ms;
}

/** Threads in the pool: KILN_COMPUTE_THREADS, else one per core. */
export function computeThreads(value = process.env.KILN_COMPUTE_THREADS): number {
  if (value === undefined || value === '') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`KILN_COMPUTE_THREADS must be a whole number of at least 1, not '${value}'`);
  return n;
}

let pool: Piscina | undefined;

// Created on first use: a worker that never trains starts no threads. Idle threads exit after
// a minute (and never keep the process alive), so a run of trials reuses a warm TensorFlow.js.
const computePool = () => (pool ??= new Piscina({ maxThreads: computeThreads(), idleTimeout: 60_000 }));

/**
 * Runs `name` (a `computeTask`) exported by the module at `module` (a file URL) on a pool thread. `heartbeat` is
 * called with each progress message and, between them, every second with the last one, so a
 * heartbeat timeout measures whether the worker lives, not how long an epoch takes. Aborting
 * `signal` ends the thread at once and rejects with the signal's reason.
 */
export async function runOffThread<I, O>(
  module: URL,
  name: string,
  input: I,
  options: { signal?: AbortSignal; heartbeat?: (details: unknown) => void; stallMs?: number } = {},
): Promise<O> {
  const { signal, heartbeat, stallMs = computeStallMs() } = options;
  const channel = new MessageChannel();
  let last: unknown;
  // Undefined while the task waits in the pool's queue: a busy pool is not a stuck thread.
  let progressedAt: number | undefined;
  channel.port1.on('message', (details: unknown) => {
    progressedAt = Date.now();
    if (details === STARTED) return;
    last = details;
    heartbeat?.(details);
  });
  const stalled = () => progressedAt !== undefined && Date.now() - progressedAt > stallMs;
  const liveness = heartbeat && setInterval(() => stalled() || heartbeat(last), LIVENESS_MS);
  try {
    const task: ComputeTask<I> = { input, progress: channel.port2 };
    const outcome = (await computePool().run(task, {
      filename: module.href,
      name,
      transferList: [channel.port2],
      ...(signal ? { signal } : {}),
    })) as Outcome<O>;
    if ('failure' in outcome) throw defaultFailureConverter.failureToError(outcome.failure, defaultPayloadConverter);
    return outcome.output;
  } catch (error) {
    if (signal?.aborted) {
      const reason: unknown = signal.reason;
      throw reason instanceof Error ? reason : new Error('the computation was cancelled', { cause: error });
    }
    throw error;
  } finally {
    clearInterval(liveness);
    channel.port1.close();
  }
}
