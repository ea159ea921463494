import { SYSTEM, type Store } from '../store';
import type { StepWrite } from '../store/steps';

/** At most this many writes in one transaction, so a burst never holds rows for long. */
const MAX_BATCH = 256;

interface Pending {
  write: StepWrite;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the step records of a worker's concurrent activities: a write waits for the
 * transaction in flight, then goes with every write that queued meanwhile, in one transaction.
 * Each caller's promise settles when its own write is committed, so an activity still returns
 * its result to Temporal only after its record is in the store: a crash loses no record of a
 * completion Temporal has. A failed batch (a conflict, a deadlock between two workers' batches)
 * is retried write by write, so each caller gets its own outcome and one bad write fails no other.
 */
export function stepWrites(store: Store): (write: StepWrite) => Promise<void> {
  let queue: Pending[] = [];
  let flushing = false;

  const alone = (write: StepWrite) =>
    'start' in write
      ? store.steps.recordStepStart(SYSTEM, write.start)
      : store.steps.recordStepFinish(SYSTEM, write.finish);

  async function flush() {
    while (queue.length) {
      const batch = queue.slice(0, MAX_BATCH);
      queue = queue.slice(batch.length);
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
  }

  return (write) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ write, resolve, reject });
      if (flushing) return;
      flushing = true;
      // One turn of the event loop lets the activities that became ready together join the first batch.
      setImmediate(() => void flush());
    });
}
