import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { compile, pipeline } from '../../dsl';
import { SYSTEM } from '../../store';
import { approveUpdate, runPipeline, statusQuery } from '../../workflows';
import { approveGate, approverAndViewer, waitForGate } from '../fixtures/gates';
import { recordingEngine } from '../fixtures/recording-engine';
import { add, noop, testSteps } from '../fixtures/steps';
import { testBackends } from '../support/backends';

// The approval gate itself, not only the steps behind it, takes a decision only when the store
// holds it; and a run cannot be started with another run's carried state.

const env = recordingEngine(
  testBackends().find((b) => b.name === 'pglite')!,
  testSteps,
  approverAndViewer,
);

const gated = pipeline({ name: 'gated-on-record' }, (p) => {
  const score = p.step(add, { a: 1, b: 2 });
  const release = p.approval('release', { show: { score: score.sum }, timeout: '5m' });
  return p.step(noop, { after: release.by });
});

it('keeps a gate waiting when a decision is sent straight to Temporal, audits the refusal, and takes the recorded one', async () => {
  const handle = await env.kiln.start(gated);
  await waitForGate(handle);
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'release', approved: true, by: 'alice' }] });
  for (let i = 0; i < 50; i++) {
    const refused = await env.store.audit.listAudit(SYSTEM, {
      action: 'access.denied',
      subject: `run:${handle.workflowId}#release`,
    });
    if (refused.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const [refusal] = await env.store.audit.listAudit(SYSTEM, {
    action: 'access.denied',
    subject: `run:${handle.workflowId}#release`,
  });
  assert.equal(refusal?.actor, 'alice');
  const gate = (await handle.query(statusQuery)).nodes.find((n) => n.id === 'release');
  assert.equal(gate?.status, 'waiting', 'the forged decision released nothing');
  assert.equal(
    (await env.store.steps.listSteps(SYSTEM, handle.workflowId)).filter((s) => s.nodeId === 'noop').length,
    0,
  );

  await approveGate(handle, 'alice', { store: env.store });
  const result = await handle.result();
  assert.deepEqual(result.output, { ok: true });
});

it("refuses a fresh start carrying `resume`, which would replay a closed run's state", async () => {
  const plan = compile(gated);
  const handle = await env.kiln.client.workflow.start(runPipeline, {
    taskQueue: env.kiln.taskQueue,
    workflowId: `forged-resume-${Date.now()}`,
    args: [
      {
        plan,
        resume: {
          startedAt: new Date().toISOString(),
          generation: 1,
          finished: [],
          decisions: [{ gate: 'release', approved: true, by: 'alice' }],
        },
      },
    ],
  });
  const error = await handle.result().then(
    () => assert.fail('expected the start to be refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure);
  assert.equal(error.cause.type, 'InvalidParams');
  assert.match(error.cause.message, /only continue-as-new carries it/);
});
