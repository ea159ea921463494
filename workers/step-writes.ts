import { SYSTEM, type Store } from '../store';
import type { StepFinish, StepStart, StepWrite } from '../store/steps';

/** At most this many writes in one transaction, so a burst never holds rows for long. */
const MAX_BATCH = 256;

/**
 * How long a step's start may wait for its finish: a step done within it (a gate, a split's
 * metadata, a no-op) has its start and finish written as one row, one write instead of two.
 */
export const START_DELAY_MS = 50;

interface Pending {
  write: StepWrite;
  /** A start: it waits for its finish, for settle() or for the delay. */
  lazy: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const nodeKey = (step: { runId: string; nodeId: string }) => JSON.stringify([step.runId, step.nodeId]);

/**
 * Group commit for the step records of a worker's concurrent activities: a write waits for the
 * transaction in flight, then goes with every write that queued meanwhile, in one transaction.
 *
 * A finish settles when it is committed, so an activity returns its result to Temporal only after
 * its record is in the store: a crash loses no record of a completion Temporal has. A start is not
 * waited for: it goes with its own finish as one row when the step is quick, else after
 * START_DELAY_MS; a failed attempt commits it first (settle), since the workflow records the end.
 *
 * A failed batch (a conflict, a deadlock between two workers' batches) is retried write by write,
 * so each write gets its own outcome and one bad write fails no other; a start's failure fails
 * its step's finish.
 */
export function stepWrites(store: Store, startDelayMs = START_DELAY_MS) {
  let queue: Pending[] = [];
  let flushing = false;
  let timer: NodeJS.Timeout | undefined;
  /** Starts not known to be committed, by node; `queued` while still in the queue. */
  const starts = new Map<string, { queued?: Pending; committed: Promise<void> }>();

  const alone = (write: StepWrite) =>
    'start' in write
      ? store.steps.recordStepStart(SYSTEM, write.start)
      : 'finish' in write
        ? store.steps.recordStepFinish(SYSTEM, write.finish)
        : store.steps.recordStepRan(SYSTEM, write.ran);

  /** Writes what is due: every write but the waiting starts, or with `all` those too. */
  async function flush(all: boolean) {
    for (;;) {
      const batch = queue.filter((p) => all || !p.lazy).slice(0, MAX_BATCH);
      if (!batch.length) break;
      const taken = new Set(batch);
      queue = queue.filter((p) => !taken.has(p));
      for (const { write } of batch) {
        const entry = 'start' in write ? starts.get(nodeKey(write.start)) : undefined;
        if (entry) entry.queued = undefined;
      }
      try {
        if (batch.length === 1) await alone(batch[0]!.write);
        else
          await store.steps.recordSteps(
            SYSTEM,
            batch.map((p) => p.write),
          );
        for (const p of batch) p.resolve();
      } catch (error) {
        if (batch.length === 1) batch[0]!.reject(error);
        else for (const p of batch) await alone(p.write).then(p.resolve, p.reject);
      }
    }
    flushing = false;
    schedule();
  }

  function schedule() {
    if (flushing || !queue.length) return;
    if (queue.some((p) => !p.lazy)) {
      clearTimeout(timer);
      timer = undefined;
      flushing = true;
      // One turn of the event loop lets the activities that became ready together join the first batch.
      setImmediate(() => void flush(false));
    } else {
      timer ??= setTimeout(() => {
        timer = undefined;
        if (flushing) return;
        flushing = true;
        void flush(true);
      }, startDelayMs);
    }
  }

  const enqueue = (write: StepWrite, lazy: boolean) => {
    let pending!: Pending;
    const committed = new Promise<void>((resolve, reject) => {
      pending = { write, lazy, resolve, reject };
    });
    queue.push(pending);
    schedule();
    return { pending, committed };
  };

  return {
    /** Queues a step's start; it settles when committed, which the step need not wait for. */
    start(start: StepStart): Promise<void> {
      const key = nodeKey(start);
      // Timed now, not when written: a start written after its run was cancelled must not reopen it.
      const { pending, committed } = enqueue({ start: { ...start, startedAt: start.startedAt ?? new Date() } }, true);
      const entry = { queued: pending, committed };
      starts.set(key, entry);
      // Handled here too: a start whose step fails, and never asks, is no unhandled rejection.
      committed.then(
        () => starts.get(key) === entry && starts.delete(key),
        () => {},
      );
      return committed;
    },

    /** Writes a step's finish, with its start as one row when that is still queued; settles once committed. */
    async finish(finish: StepFinish): Promise<void> {
      const key = nodeKey(finish);
      const start = starts.get(key);
      starts.delete(key);
      const queued = start?.queued;
      if (queued && 'start' in queued.write) {
        queue = queue.filter((p) => p !== queued);
        const ran = enqueue({ ran: { start: queued.write.start, finish } }, false).committed;
        ran.then(queued.resolve, queued.reject);
        return ran;
      }
      await start?.committed;
      return enqueue({ finish }, false).committed;
    },

    /** Commits a step's start now if it is still queued, and waits for it; a failed write is the step's to ignore. */
    async settle(step: { runId: string; nodeId: string }): Promise<void> {
      const key = nodeKey(step);
      const start = starts.get(key);
      starts.delete(key);
      if (start?.queued) {
        start.queued.lazy = false;
        schedule();
      }
      await start?.committed.catch(() => {});
    },
  };
}
