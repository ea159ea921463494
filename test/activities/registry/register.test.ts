import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { storeContext } from '../../support/store-context';
import { linearModel } from '../../fixtures/models';
import { registerModelImpl } from '../../../activities/registry/register';
import type { Store } from '../../../store';
import { startRun } from '../../support/store-fixtures';
import { SYSTEM } from '../../../store/access';

type Ctx = Awaited<ReturnType<typeof storeContext>>;

describe('registry.register', () => {
  let store: Store;
  let ctx: Ctx;
  before(async () => {
    ctx = await storeContext();
    store = ctx.full;
  });
  after(async () => {
    await ctx.dispose();
  });

  it('creates one version however many times the same run and node register, with the run, signature and report', async () => {
    const runId = 'run-register-1';
    await startRun(store, runId);
    await store.steps.recordStepStart(SYSTEM, {
      runId,
      nodeId: 'register',
      step: { name: 'registry.register', version: '1' },
    });
    const step = {
      ...ctx,
      run: { workflowId: runId, runId: 'temporal-run-1', pipeline: 'test-pipeline', node: 'register' },
    };
    const model = await linearModel(ctx.artifacts);
    const report = { kind: 'report' as const, ...(await ctx.artifacts.putJson({ kind: 'kiln.evaluation', auc: 0.8 })) };
    const input = { name: 'credit', model, metrics: { rocAuc: 0.8 }, report };
    const first = await registerModelImpl.run(input, step);
    const retried = await registerModelImpl.run(input, step);
    assert.deepEqual(first, { name: 'credit', version: 1 });
    assert.deepEqual(retried, first);

    const summary = await store.registry.getModel(SYSTEM, 'credit');
    assert.equal(summary?.versions.length, 1);
    const version = summary!.versions[0]!;
    assert.equal(version.runId, runId);
    assert.equal(version.artifactSha256, model.sha256);
    assert.deepEqual(version.metrics, { rocAuc: 0.8 });
    assert.deepEqual(version.signature, {
      inputs: [{ name: 'x', type: 'number' }],
      output: {
        task: 'binary',
        label: 'y',
        classes: ['no', 'yes'],
        positiveClass: 'yes',
        score: 'class probabilities, in the order of classes',
      },
      transform: '0'.repeat(64),
      validationReport: report.uri,
    });
    const registrations = (await store.audit.listAudit(SYSTEM)).filter(
      (e) => e.action === 'model.register' && e.subject === 'model:credit@1',
    );
    assert.equal(registrations.length, 1);
    // The register step took the model and its validation report as inputs.
    const fromReport = await store.lineage.downstream(SYSTEM, report.sha256);
    const steps = fromReport.nodes.filter((n) => n.type === 'step');
    assert.deepEqual(
      steps.map((n) => n.type === 'step' && [n.runId, n.nodeId]),
      [[runId, 'register']],
    );
  });

  it('registers a new artifact as the next version, keeping a given signature', async () => {
    const other = await linearModel(ctx.artifacts, { weight: 3 });
    const out = await registerModelImpl.run(
      { name: 'credit', model: other, metrics: {}, signature: { inputs: ['x'] } },
      ctx,
    );
    assert.equal(out.version, 2);
    assert.deepEqual((await store.registry.getModelVersion(SYSTEM, 'credit', 2)).signature, { inputs: ['x'] });
  });

  it('fails clearly without a store', async () => {
    const model = await linearModel(ctx.artifacts);
    await assert.rejects(
      registerModelImpl.run({ name: 'credit', model, metrics: {} }, { ...ctx, store: undefined }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
        assert.equal(error.type, 'StoreRequired');
        assert.match(error.message, /registry steps need a store; start the worker with one/);
        return true;
      },
    );
  });
});
