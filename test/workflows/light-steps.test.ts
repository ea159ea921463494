import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { pipeline } from '../../dsl';
import { checkGates } from '../../activities/validate/steps';
import { selectTrial } from '../../activities/tune/steps';
import { SYSTEM } from '../../store/access';
import { workflowBundle } from '../../workers/bundle';
import { testBackends } from '../support/backends';
import { recordingEngine } from '../fixtures/recording-engine';
import { executions, flaky, noop, slow, testSteps } from '../fixtures/steps';

/** How many activity tasks and markers (local activities, patches) the run's history holds. */
async function commands(handle: { fetchHistory(): Promise<{ events?: object[] | null }> }) {
  const events = ((await handle.fetchHistory()).events ?? []) as {
    activityTaskScheduledEventAttributes?: unknown;
    markerRecordedEventAttributes?: unknown;
  }[];
  return {
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length,
    markers: events.filter((e) => e.markerRecordedEventAttributes).length,
  };
}

describe('light steps', () => {
  it('are declared by the cheap built-in steps: gates and trial selection', () => {
    assert.equal(checkGates.options.light, true);
    assert.equal(selectTrial.options.light, true);
  });
});

for (const backend of testBackends()) {
  describe(`light steps run as local activities, recorded in the store (${backend.name})`, () => {
    const env = recordingEngine(backend, testSteps);

    it('runs a chain of light steps without a single activity task, each as a marker', async () => {
      const handle = await env.kiln.start(
        pipeline({ name: 'light-chain' }, (p) => {
          let last = p.step(noop, {}, { id: 's0', light: true, cache: false }).ok;
          for (let i = 1; i < 5; i++)
            last = p.step(noop, { after: last }, { id: `s${i}`, light: true, cache: false }).ok;
        }),
      );
      const result = await handle.result();
      assert.deepEqual(
        result.nodes.map((n) => [n.id, n.status, n.attempts]),
        [0, 1, 2, 3, 4].map((i) => [`s${i}`, 'succeeded', 1]),
      );
      const { activities, markers } = await commands(handle);
      assert.equal(activities, 0);
      // One marker per step, besides the patches' and the run's own local activities'.
      assert.ok(markers >= 5, `${markers} markers`);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(steps.map((s) => [s.nodeId, s.status, s.attempts]).sort(), [
        ['s0', 'succeeded', 1],
        ['s1', 'succeeded', 1],
        ['s2', 'succeeded', 1],
        ['s3', 'succeeded', 1],
        ['s4', 'succeeded', 1],
      ]);
    });

    it('keeps a step without the option a regular activity', async () => {
      const handle = await env.kiln.start(
        pipeline({ name: 'light-mixed' }, (p) => {
          const first = p.step(noop, {}, { id: 'light', light: true }).ok;
          p.step(noop, { after: first }, { id: 'regular' });
        }),
      );
      await handle.result();
      assert.equal((await commands(handle)).activities, 1);
    });

    it('retries a light step per its retry policy and records it once, succeeded on attempt 3', async () => {
      const key = `light-retried-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'light-retried' }, (p) => p.step(flaky, { key, failTimes: 2 }, { light: true })),
      );
      const result = await handle.result();
      assert.equal(executions.get(key), 3);
      assert.deepEqual(
        result.nodes.map((n) => [n.id, n.status, n.attempts]),
        [['flaky', 'succeeded', 3]],
      );
      assert.equal((await commands(handle)).activities, 0);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType]),
        [['flaky', 'succeeded', 3, null]],
      );
      assert.deepEqual(steps[0]!.output, { attempts: 3 });
    });

    it('replays a run whose light step was retried, next to a regular step, without nondeterminism', async () => {
      const key = `light-replayed-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'light-replayed' }, (p) => {
          const first = p.step(flaky, { key, failTimes: 1 }, { light: true });
          p.step(noop, { after: first.attempts });
        }),
      );
      await handle.result();
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle() },
        await handle.fetchHistory(),
        handle.workflowId,
      );
    });

    it('completes a light step that heartbeats: the wrapper drops its heartbeats and its heartbeat timeout does not apply', async () => {
      const key = `light-heartbeats-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'light-heartbeats' }, (p) => p.step(slow, { key, ms: 300 }, { light: true })),
      );
      const result = await handle.result();
      assert.deepEqual(
        result.nodes.map((n) => [n.id, n.status, n.attempts]),
        [['slow', 'succeeded', 1]],
      );
      assert.equal((await commands(handle)).activities, 0);
    });

    it('fails a light step after its last attempt and records it failed with the error', async () => {
      const key = `light-exhausted-${backend.name}-${Date.now()}`;
      const handle = await env.kiln.start(
        pipeline({ name: 'light-exhausted' }, (p) =>
          p.step(flaky, { key, failTimes: 99 }, { light: true, retry: { maximumAttempts: 3 } }),
        ),
      );
      await assert.rejects(handle.result(), WorkflowFailedError);
      assert.equal(executions.get(key), 3);
      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(
        steps.map((s) => [s.nodeId, s.status, s.attempts, s.errorType, s.errorMessage]),
        [['flaky', 'failed', 3, 'Error', 'flaky failure 3 of 99']],
      );
      assert.equal((await env.store.runs.getRun(SYSTEM, handle.workflowId))?.status, 'failed');
    });

    it('reuses a recorded result for a light step with the same input, recorded as a cache hit', async () => {
      const key = `light-cached-${backend.name}-${Date.now()}`;
      const cached = pipeline({ name: 'light-cached' }, (p) => p.step(flaky, { key, failTimes: 0 }, { light: true }));
      const one = await env.kiln.start(cached);
      await one.result();
      const two = await env.kiln.start(cached);
      const second = await two.result();
      assert.equal(executions.get(key), 1, 'the cached light step did not run again');
      assert.deepEqual(second.nodes[0]!.cached, { runId: one.workflowId, node: 'flaky' });
      const hit = await env.store.steps.getStep(SYSTEM, { runId: two.workflowId, nodeId: 'flaky' });
      const original = await env.store.steps.getStep(SYSTEM, { runId: one.workflowId, nodeId: 'flaky' });
      assert.equal(hit?.status, 'cached');
      assert.equal(hit?.cachedFrom, original!.id);
    });
  });
}
