import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { computeStallMs, computeThreads, runOffThread } from '../../activities/common/compute-pool';

const tasks = new URL('./compute-tasks.ts', import.meta.url);

it('runs a task on a pool thread, passing its progress to heartbeat', async () => {
  const beats: unknown[] = [];
  const total = await runOffThread<{ n: number }, number>(
    tasks,
    'sum',
    { n: 300 },
    { heartbeat: (d) => beats.push(d) },
  );
  assert.equal(total, 45150);
  // Progress as posted, with liveness heartbeats (every second) between; the last may still be in flight.
  const progress = beats.filter((b) => b !== undefined).map((b) => (b as { i: number }).i);
  assert.ok(progress.length > 0, 'no progress arrived');
  assert.ok(
    progress.every((i) => [100, 200, 300].includes(i)),
    `unexpected progress ${progress.join(', ')}`,
  );
});

it("keeps a typed failure's type, message and details across the thread", async () => {
  await assert.rejects(runOffThread(tasks, 'refuse', { why: 'the loss became NaN at epoch 3' }), (error) => {
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'TrainingDiverged');
    assert.equal(error.nonRetryable, true);
    assert.equal(error.message, 'the loss became NaN at epoch 3');
    assert.deepEqual(error.details, [{ epoch: 3 }]);
    return true;
  });
});

it("ends a task when its signal aborts, with the signal's reason", async () => {
  const abort = new AbortController();
  setTimeout(() => abort.abort(new Error('cancelled by test')), 200);
  await assert.rejects(runOffThread(tasks, 'spin', {}, { signal: abort.signal }), /cancelled by test/);
});

it('refuses a KILN_COMPUTE_THREADS that is not a whole number of at least 1, naming it', () => {
  assert.equal(computeThreads('3'), 3);
  assert.throws(() => computeThreads('0'), /KILN_COMPUTE_THREADS must be a whole number of at least 1, not '0'/);
  assert.throws(() => computeThreads('two'), /KILN_COMPUTE_THREADS .* not 'two'/);
});

it(
  'stops vouching for a started task that makes no progress, so the step times out and is retried',
  { timeout: 60_000 },
  async () => {
    // Times count from the task's one progress message: a loaded machine may take seconds to start the thread.
    const beats: number[] = [];
    const abort = new AbortController();
    let progressedAt: number | undefined;
    await assert.rejects(
      runOffThread(
        tasks,
        'stall',
        {},
        {
          signal: abort.signal,
          stallMs: 2000,
          heartbeat: (details) => {
            if (details === undefined) return; // a liveness beat while the task waits in the queue
            if (progressedAt === undefined) {
              progressedAt = Date.now();
              setTimeout(() => abort.abort(new Error('heartbeat timeout')), 5000);
            }
            beats.push(Date.now() - progressedAt);
          },
        },
      ),
      /heartbeat timeout/,
    );
    assert.ok(beats.length >= 2, `it heartbeat while the task was young (${beats.join(', ')} ms after progress)`);
    assert.ok(
      beats.every((at) => at < 3500),
      `no heartbeat once the task had gone 2 s without progress (${beats.join(', ')} ms after progress)`,
    );
  },
);

it('refuses a KILN_COMPUTE_STALL_MS that is not a whole number, naming it', () => {
  assert.equal(computeStallMs('1500'), 1500);
  assert.equal(computeStallMs(undefined), 600_000);
  assert.throws(
    () => computeStallMs('soon'),
    /KILN_COMPUTE_STALL_MS must be a whole number of milliseconds, not 'soon'/,
  );
});
