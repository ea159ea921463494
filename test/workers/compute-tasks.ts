import { ApplicationFailure } from '@temporalio/common';
import { computeTask } from '../../activities/common/compute-pool';

// Pool tasks for test/workers/compute-pool.test.ts; they run on a pool thread.

export const sum = computeTask(async (input: { n: number }, progress) => {
  let total = 0;
  for (let i = 1; i <= input.n; i++) {
    total += i;
    if (i % 100 === 0) progress({ i });
  }
  return total;
});

export const refuse = computeTask(async (input: { why: string }) => {
  throw ApplicationFailure.nonRetryable(input.why, 'TrainingDiverged', { epoch: 3 });
});

export const spin = computeTask(async () => {
  for (;;) await new Promise((r) => setImmediate(r));
});

export const stall = computeTask(async (_input: unknown, progress) => {
  progress({ epoch: 1 });
  for (;;) await new Promise((r) => setImmediate(r));
});
