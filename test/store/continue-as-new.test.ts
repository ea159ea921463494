import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipeline } from '../../dsl';
import { testBackends } from '../support/backends';
import { statusQuery } from '../../workflows';
import { recordingEngine } from '../fixtures/recording-engine';
import { add, testSteps } from '../fixtures/steps';
import { SYSTEM } from '../../store/access';

const STEPS = 25;

const long = pipeline({ name: 'store-long' }, (p) => {
  let sum = p.step(add, { a: 0, b: 1 }, { id: 's0' }).sum;
  for (let i = 1; i < STEPS; i++) sum = p.step(add, { a: sum, b: 1 }, { id: `s${i}` }).sum;
  return sum;
});

for (const backend of testBackends()) {
  describe(`a run that continues as new, in the store (${backend.name})`, () => {
    const env = recordingEngine(backend, testSteps);

    it('keeps one run record across generations, with every step recorded once', async () => {
      const handle = await env.kiln.start(long, {}, { maxHistoryEvents: 40, cache: false });
      const first = await handle.describe();
      const result = await handle.result();
      assert.equal(result.output, STEPS);
      const status = await handle.query(statusQuery);
      assert.ok(status.generation >= 2, `expected at least two continue-as-new, got ${status.generation}`);

      const runs = await env.store.runs.listRuns(SYSTEM, { pipeline: 'store-long' });
      assert.deepEqual(
        runs.map((r) => [r.id, r.workflowId, r.status]),
        [[handle.workflowId, handle.workflowId, 'succeeded']],
      );
      // The first generation's Temporal run id: the run started there.
      assert.equal(runs[0]!.temporalRunId, first.runId);
      assert.ok(runs[0]!.finishedAt);

      const steps = await env.store.steps.listSteps(SYSTEM, handle.workflowId);
      assert.deepEqual(steps.map((s) => s.nodeId).sort(), Array.from({ length: STEPS }, (_, i) => `s${i}`).sort());
      assert.ok(
        steps.every((s) => s.status === 'succeeded' && s.attempts === 1),
        JSON.stringify(steps.map((s) => [s.nodeId, s.status, s.attempts])),
      );
      assert.deepEqual(steps.find((s) => s.nodeId === `s${STEPS - 1}`)?.output, { sum: STEPS });
    });
  });
}
