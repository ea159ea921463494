import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { FailureTypes } from '../dsl/failures';
import type { RunState } from '../dsl/states';
import { SYSTEM, type Store } from '../store';

// A run records its own end (kiln.recordRun) only when its workflow code gets to: a run terminated
// through Temporal, or past its execution timeout, stops without a word, and its row would say
// `running` forever. Temporal's description of the execution is the truth the store is brought to.

/** The store's state for an execution Temporal has closed; undefined while it runs (or continues as new). */
export function closedState(status: WorkflowExecutionStatusName): Exclude<RunState, 'running'> | undefined {
  switch (status) {
    case 'COMPLETED':
      return 'succeeded';
    case 'FAILED':
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    case 'TERMINATED':
      return 'terminated';
    case 'TIMED_OUT':
      return 'timed_out';
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
    case 'PAUSED':
    case 'UNSPECIFIED':
    case 'UNKNOWN':
      return undefined;
  }
}

/** A run whose row said `running` after Temporal had closed it, and what it says now. */
export interface Reconciled {
  runId: string;
  status: Exclude<RunState, 'running'>;
}

/**
 * Records the end of every run the store holds as `running` whose workflow Temporal has closed
 * (terminated, timed out, or ended before it could record itself), with Temporal's close time.
 */
export async function reconcileRuns(store: Store, client: Client, limit = 500): Promise<Reconciled[]> {
  const running = await store.runs.listRuns(SYSTEM, { status: 'running', limit });
  const done: Reconciled[] = [];
  for (const run of running) {
    let description;
    try {
      description = await client.workflow.getHandle(run.workflowId).describe();
    } catch (error) {
      // A run whose history Temporal no longer keeps (retention) cannot be told apart from a lost one: left as it is.
      if (error instanceof WorkflowNotFoundError) continue;
      throw error;
    }
    const status = closedState(description.status.name);
    if (!status) continue;
    await store.runs.recordRunFinish(SYSTEM, {
      runId: run.id,
      status,
      ...(description.closeTime ? { finishedAt: description.closeTime } : {}),
      ...(status === 'timed_out'
        ? { error: { type: FailureTypes.Timeout, message: 'the run passed its execution timeout in Temporal' } }
        : {}),
    });
    done.push({ runId: run.id, status });
  }
  return done;
}

/**
 * Reconciles at once, then every `intervalMs` until the returned stop() is called; a failed
 * sweep is reported through `onError` and tried again at the next interval.
 */
export function reconcileEvery(
  store: Store,
  client: Client,
  options: { intervalMs?: number; onReconciled?: (runs: Reconciled[]) => void; onError: (error: unknown) => void },
): () => Promise<void> {
  let sweep: Promise<void> | undefined;
  const tick = () => {
    // A sweep slower than the interval is not doubled.
    if (sweep) return;
    sweep = reconcileRuns(store, client)
      .then((runs) => {
        if (runs.length > 0) options.onReconciled?.(runs);
      })
      .catch(options.onError)
      .finally(() => {
        sweep = undefined;
      });
  };
  tick();
  const timer = setInterval(tick, options.intervalMs ?? 30_000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await sweep;
  };
}
