import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { compile, pipeline } from '../../dsl';
import { runPipeline } from '../../workflows';
import { testBackends } from '../support/backends';
import { recordingEngine } from '../fixtures/recording-engine';
import { executions, fail, flaky, noop, slow, testSteps } from '../fixtures/steps';
import { SYSTEM } from '../../store/access';

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

/** A worker in its own process serving `taskQueue`, so that a test can SIGKILL it mid-step; resolves once it polls. */
function workerProcess(address: string, taskQueue: string, artifactsDir: string, url: string): Promise<ChildProcess> {
  const script = join(import.meta.dirname, '../fixtures/worker-process.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, address, taskQueue, artifactsDir, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker process exited with ${code} before it was ready`)));
  });
}

/** Resolves once the run's first activity has been picked up by a worker. */
async function activityStarted(handle: { describe(): Promise<{ raw: { pendingActivities?: unknown[] | null } }> }) {
  for (let i = 0; i < 200; i++) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (
      pending.some(
        (a) => String((a as { state?: unknown }).state).includes('STARTED') || (a as { state?: unknown }).state === 2,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the step was never picked up by a worker');
}

for (const backend of testBackends()) {
  describe(`step attempts and failures in the store (${backend.name})`, () => {
    const env = recordingEngine(backend, testSteps);

    it('records a step retried twice as one row, succeeded on attempt 3', async () => {
      const key = `attempts-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-retried' }, (p) => p.step(flaky, { key, failTimes: 2 })),
      );
      await handle.result();
      assert.equal(executions.get(key), 3);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType]),
        [['flaky', 'succeeded', 3, null]],
      );
      assert.deepEqual(steps[0]!.output, { attempts: 3 });
      assert.ok(
        steps[0]!.attemptStartedAt >= steps[0]!.startedAt && steps[0]!.finishedAt! >= steps[0]!.attemptStartedAt,
      );
      assert.equal((await env.store.runs.getRun(SYSTEM, handle.workflowId))?.status, 'succeeded');
    });

    it('records a step that fails on every attempt once, failed after its last attempt', async () => {
      const key = `exhausted-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-exhausted' }, (p) => p.step(flaky, { key, failTimes: 99 })),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal(executions.get(key), 5);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType, s.errorMessage]),
        [['flaky', 'failed', 5, 'Error', 'flaky failure 5 of 99']],
      );
      const run = await env.store.runs.getRun(SYSTEM, handle.workflowId);
      assert.equal(run?.status, 'failed');
      assert.equal(run?.errorMessage, 'flaky failure 5 of 99');
    });

    it('records a step failing for good with its error type and message, and the run failed with the error', async () => {
      const handle = await env.kiln.start(
        pipeline({ name: 'store-failing' }, (p) => {
          const first = p.step(fail, { type: 'GateFailed', message: 'AUC 0.61 is below the gate 0.75' });
          p.step(noop, { after: first });
        }),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType, s.errorMessage]),
        [['fail', 'failed', 1, 'GateFailed', 'AUC 0.61 is below the gate 0.75']],
      );
      assert.ok(steps[0]!.finishedAt);
      const run = await env.store.runs.getRun(SYSTEM, handle.workflowId);
      assert.equal(run?.status, 'failed');
      assert.equal(run?.errorType, 'GateFailed');
      assert.equal(run?.errorMessage, 'AUC 0.61 is below the gate 0.75');
      assert.ok(run?.finishedAt);
    });

    it('records a failure whose type the step declares non-retryable as final after one attempt', async () => {
      const key = `non-retryable-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-non-retryable' }, (p) =>
          p.step(flaky, { key, failTimes: 99 }, { retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['Error'] } }),
        ),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal(executions.get(key), 1);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.status, s.attempts, s.errorMessage]),
        [['failed', 1, 'flaky failure 1 of 99']],
      );
    });

    it('closes a step cancelled with its run as cancelled, not running forever', async () => {
      const key = `cancelled-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-cancelled' }, (p) => p.step(slow, { key, ms: 30_000 })),
      );
      for (let i = 0; i < 100 && !executions.get(key); i++) await new Promise((r) => setTimeout(r, 100));
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      const run = await env.store.runs.getRun(SYSTEM, handle.workflowId);
      assert.equal(run?.status, 'cancelled');
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status]),
        [['slow', 'cancelled']],
      );
      assert.ok(steps[0]!.finishedAt);
    });

    it('records a step whose every attempt timed out as failed with type Timeout, after its last attempt', async () => {
      const key = `timeout-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-timeout' }, (p) =>
          p.step(
            slow,
            { key, ms: 2_500 },
            { startToCloseTimeout: '700ms', retry: { maximumAttempts: 2, initialInterval: '100ms' } },
          ),
        ),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType]),
        [['slow', 'failed', 2, 'Timeout']],
      );
      // The zombie attempts finish in the worker later; their success must not reopen the outcome.
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(
        (await env.store.steps.getStep(SYSTEM, { runId: handle.workflowId, nodeId: 'slow' }))?.status,
        'failed',
      );
      assert.equal((await env.store.runs.getRun(SYSTEM, handle.workflowId))?.errorType, 'Timeout');
    });

    it('records a skipped step as skipped, through the same path as failures', async () => {
      const handle = await env.kiln.start(
        pipeline({ name: 'store-skipped', params: z.object({ deploy: z.boolean().default(false) }) }, (p, params) => {
          const first = p.step(noop, {});
          p.when(params.deploy, () => {
            p.step(noop, { after: first.ok }, { id: 'never' });
          });
        }),
      );
      await handle.result();
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(steps.map((s) => [s.nodeId, s.status]).sort(), [
        ['never', 'skipped'],
        ['noop', 'succeeded'],
      ]);
    });

    // A worker in another process records in the same store only through a server: PostgreSQL.
    const lostWorker = backend.url ? it : () => undefined;
    lostWorker(
      'ends the record of a step whose worker was lost: failed on its heartbeat timeout, or retried to success elsewhere',
      async () => {
        const url = await backend.url!();
        const queue = `lost-${backend.name}-${Date.now()}`;
        const run = (name: string, maximumAttempts: number) =>
          env.kiln.start(
            pipeline({ name }, (p) =>
              p.step(
                slow,
                { key: name, ms: 2_000 },
                { taskQueue: queue, heartbeatTimeout: '1s', retry: { maximumAttempts, initialInterval: '100ms' } },
              ),
            ),
          );
        const lost = await workerProcess(env.kiln.address, queue, env.kiln.artifactsDir, url);
        const once = await run('store-lost-once', 1);
        await activityStarted(once);
        lost.kill('SIGKILL');
        await assert.rejects(once.result(), WorkflowFailedError);
        assert.deepEqual(
          (await env.store.steps.listSteps(SYSTEM, once.workflowId)).map((s) => [s.status, s.attempts, s.errorType]),
          [['failed', 1, 'Timeout']],
        );

        const second = await workerProcess(env.kiln.address, queue, env.kiln.artifactsDir, url);
        const retried = await run('store-lost-retried', 2);
        await activityStarted(retried);
        second.kill('SIGKILL');
        await workerProcess(env.kiln.address, queue, env.kiln.artifactsDir, url);
        await retried.result();
        assert.equal((await env.store.runs.getRun(SYSTEM, retried.workflowId))?.status, 'succeeded');
        assert.deepEqual(
          (await env.store.steps.listSteps(SYSTEM, retried.workflowId)).map((s) => [s.status, s.attempts, s.errorType]),
          [['succeeded', 2, null]],
        );
      },
    );

    it("refuses a run that reuses a closed run's workflow id, which is Kiln's run id", async () => {
      const plan = compile(pipeline({ name: 'store-reused-id' }, (p) => p.step(noop, {})));
      const workflowId = `reused-${backend.name}-${Date.now()}`;
      const start = () =>
        env.kiln.client.workflow.start(runPipeline, { taskQueue: env.kiln.taskQueue, workflowId, args: [{ plan }] });
      await (await start()).result();
      const error = await (await start()).result().then(
        () => assert.fail('expected the second run to be refused'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as ApplicationFailure).type, 'DuplicateRunId');
      assert.equal((await env.store.runs.listRuns(SYSTEM, { pipeline: 'store-reused-id' })).length, 1);
    });
  });
}
