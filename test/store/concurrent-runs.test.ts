import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { pipeline } from '../../dsl';
import { testBackends } from '../support/backends';
import { recordingEngine } from '../fixtures/recording-engine';
import { add, list, testSteps } from '../fixtures/steps';
import { SYSTEM } from '../../store/access';

const RUNS = 6;
const ITEMS = 10;

const fan = pipeline({ name: 'store-fan', params: z.object({ offset: z.number() }) }, (p, params) => {
  const items = p.step(list, { n: ITEMS });
  return p.map(items.items, (item) => p.step(add, { a: item.x, b: params.offset }).sum, { id: 'trials' });
});

for (const backend of testBackends()) {
  describe(`concurrent runs recorded in one store (${backend.name})`, () => {
    const env = recordingEngine(backend, testSteps);

    it(`records ${RUNS} runs of a ${ITEMS}-way fan-out started at once, each with exactly its own steps`, async () => {
      const offsets = Array.from({ length: RUNS }, (_, i) => (i + 1) * 1000);
      // Cache off: every run executes every step, whatever finishes first.
      const handles = await Promise.all(offsets.map((offset) => env.kiln.start(fan, { offset }, { cache: false })));
      const results = await Promise.all(handles.map((h) => h.result()));
      results.forEach((r, i) =>
        assert.deepEqual(
          r.output,
          Array.from({ length: ITEMS }, (_, x) => x + offsets[i]!),
        ),
      );

      const expectedNodes = ['list', ...Array.from({ length: ITEMS }, (_, x) => `trials[${x}].add`)].sort();
      for (const [i, handle] of handles.entries()) {
        const runId = handle.workflowId;
        const run = await env.store.runs.getRun(SYSTEM, runId);
        assert.equal(run?.status, 'succeeded', `run ${runId}`);
        assert.ok(run?.finishedAt);
        assert.deepEqual(run?.params, { offset: offsets[i] });
        const steps = await env.store.steps.listSteps(SYSTEM, runId);
        assert.deepEqual(steps.map((s) => s.nodeId).sort(), expectedNodes);
        for (const step of steps) {
          assert.equal(step.runId, runId);
          assert.equal(step.status, 'succeeded', `${runId}/${step.nodeId}`);
          assert.equal(step.attempts, 1);
          const item = /^trials\[(\d+)\]\.add$/.exec(step.nodeId);
          // Each add's output carries its run's offset: a row recorded under the wrong run would not.
          if (item) assert.deepEqual(step.output, { sum: Number(item[1]) + offsets[i]! }, `${runId}/${step.nodeId}`);
        }
      }
      const recorded = await env.store.runs.listRuns(SYSTEM, { pipeline: 'store-fan' });
      assert.deepEqual(recorded.map((r) => r.id).sort(), handles.map((h) => h.workflowId).sort());
    });

    it('records identical runs started at once as succeeded or cached, each hit pointing at a succeeded execution of the same node', async () => {
      const offset = 7_000_000 + Math.floor(Math.random() * 1000);
      const handles = await Promise.all(Array.from({ length: RUNS }, () => env.kiln.start(fan, { offset })));
      await Promise.all(handles.map((h) => h.result()));
      for (const handle of handles) {
        const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
        assert.equal(steps.length, ITEMS + 1);
        assert.equal((await env.store.runs.getRun(SYSTEM, handle.workflowId))?.status, 'succeeded');
        for (const step of steps) {
          assert.ok(
            step.status === 'succeeded' || step.status === 'cached',
            `${handle.workflowId}/${step.nodeId} is ${step.status}`,
          );
          if (step.status !== 'cached') continue;
          const source = await env.store.steps.getStep(SYSTEM, { executionId: step.cachedFrom! });
          assert.equal(source?.status, 'succeeded');
          assert.equal(source?.nodeId, step.nodeId);
          assert.notEqual(source?.runId, handle.workflowId);
          assert.deepEqual(step.output, source?.output);
        }
      }
    });
  });
}
