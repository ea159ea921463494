import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { compile, pipeline } from '../../dsl';
import { runPipeline } from '../../workflows';
import { testBackends } from '../../store/testing';
import { recordingEngine } from '../fixtures/recording-engine';
import { executions, fail, flaky, noop, slow, testSteps } from '../fixtures/steps';

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
      const steps = await env.store.listSteps(handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType]),
        [['flaky', 'succeeded', 3, null]],
      );
      assert.deepEqual(steps[0]!.output, { attempts: 3 });
      assert.ok(
        steps[0]!.attemptStartedAt >= steps[0]!.startedAt && steps[0]!.finishedAt! >= steps[0]!.attemptStartedAt,
      );
      assert.equal((await env.store.getRun(handle.workflowId))?.status, 'succeeded');
    });

    it('records a step that fails on every attempt once, failed after its last attempt', async () => {
      const key = `exhausted-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'store-exhausted' }, (p) => p.step(flaky, { key, failTimes: 99 })),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal(executions.get(key), 5);
      const steps = await env.store.listSteps(handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType, s.errorMessage]),
        [['flaky', 'failed', 5, 'Error', 'flaky failure 5 of 99']],
      );
      const run = await env.store.getRun(handle.workflowId);
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
      const steps = await env.store.listSteps(handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType, s.errorMessage]),
        [['fail', 'failed', 1, 'GateFailed', 'AUC 0.61 is below the gate 0.75']],
      );
      assert.ok(steps[0]!.finishedAt);
      const run = await env.store.getRun(handle.workflowId);
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
      const steps = await env.store.listSteps(handle.workflowId);
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
      const run = await env.store.getRun(handle.workflowId);
      assert.equal(run?.status, 'cancelled');
      const steps = await env.store.listSteps(handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status]),
        [['slow', 'cancelled']],
      );
      assert.ok(steps[0]!.finishedAt);
    });

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
      assert.equal((await env.store.listRuns({ pipeline: 'store-reused-id' })).length, 1);
    });
  });
}
