import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { computeThreads, runOffThread } from '../../activities/common/compute-pool';

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
