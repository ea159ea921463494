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
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A step's start, from when it is queued until it is committed. */
interface Start extends Pending {
  write: { start: StepStart };
  committed: Promise<void>;
  /** Taken into a batch, or merged into its finish: no longer waiting. */
  taken: boolean;
}

const nodeKey = (step: { runId: string; nodeId: string }) => `${step.runId}\u0000${step.nodeId}`;

function pending<T extends StepWrite>(write: T) {
  let settle!: Pick<Pending, 'resolve' | 'reject'>;
  const committed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  return { write, ...settle, committed };
}

/**
 * Group commit for the step records of a worker's concurrent activities: a write waits for the
 * transaction in flight, then goes with every write that queued meanwhile, in one transaction.
 *
 * A finish settles when it is committed, so an activity returns its result to Temporal only after
 * its record is in the store: a crash loses no record of a completion Temporal has. A start is not
 * waited for: it goes with its own finish as one row when the step is quick, else after
 * START_DELAY_MS; a failed attempt, or a step reading the store, commits it first (settle).
 *
 * A failed batch (a conflict, a deadlock between two workers' batches) is retried write by write,
 * so each write gets its own outcome and one bad write fails no other; a start's failure fails
 * its step's finish.
 */
export function stepWrites(store: Store, startDelayMs = START_DELAY_MS) {
  /** Writes to go with the next flush, in order. */
  let due: Pending[] = [];
  /** Starts not yet known to be committed, by node; those not `taken` wait. */
  const starts = new Map<string, Start>();
  let waiting = 0;
  let flushing = false;
  let timer: NodeJS.Timeout | undefined;

  const alone = (write: StepWrite) =>
    'start' in write
      ? store.steps.recordStepStart(SYSTEM, write.start)
      : 'finish' in write
        ? store.steps.recordStepFinish(SYSTEM, write.finish)
        : store.steps.recordStepRan(SYSTEM, write.ran);

  const take = (start: Start) => {
    start.taken = true;
    waiting--;
  };

  /** Writes what is due; with `all`, the waiting starts too. */
  async function flush(all: boolean) {
    for (;;) {
      const batch = due.slice(0, MAX_BATCH);
      due = due.slice(batch.length);
      if (all)
        for (const start of starts.values()) {
          if (batch.length >= MAX_BATCH) break;
          if (start.taken) continue;
          take(start);
          batch.push(start);
        }
      if (!batch.length) break;
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
    if (flushing) return;
    if (due.length) {
      clearTimeout(timer);
      timer = undefined;
      flushing = true;
      // One turn of the event loop lets the activities that became ready together join the first batch.
      setImmediate(() => void flush(false));
    } else if (waiting) {
      timer ??= setTimeout(() => {
        timer = undefined;
        if (flushing) return;
        flushing = true;
        void flush(true);
      }, startDelayMs);
    }
  }

  const enqueue = (write: StepWrite) => {
    const p = pending(write);
    due.push(p);
    schedule();
    return p.committed;
  };

  return {
    /** Queues a step's start; it settles when committed, which the step need not wait for. */
    start(start: StepStart): Promise<void> {
      const key = nodeKey(start);
      // Timed now, not when written: a start written after its run was cancelled must not reopen it.
      const entry: Start = {
        ...pending({ start: { ...start, startedAt: start.startedAt ?? new Date() } }),
        taken: false,
      };
      starts.set(key, entry);
      waiting++;
      schedule();
      // Handled here too: a start whose step fails, and never asks, is no unhandled rejection.
      entry.committed.then(
        () => starts.get(key) === entry && starts.delete(key),
        () => {},
      );
      return entry.committed;
    },

    /** Writes a step's finish, with its start as one row when that still waits; settles once committed. */
    async finish(finish: StepFinish): Promise<void> {
      const key = nodeKey(finish);
      const start = starts.get(key);
      starts.delete(key);
      if (start && !start.taken) {
        take(start);
        const ran = enqueue({ ran: { start: start.write.start, finish } });
        ran.then(start.resolve, start.reject);
        return ran;
      }
      await start?.committed;
      return enqueue({ finish });
    },

    /** Commits a step's start now if it still waits, and waits for it; a failed write is the step's to ignore. */
    async settle(step: { runId: string; nodeId: string }): Promise<void> {
      const start = starts.get(nodeKey(step));
      if (start && !start.taken) {
        take(start);
        due.push(start);
        schedule();
      }
      await start?.committed.catch(() => {});
    },
  };
}
