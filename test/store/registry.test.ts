import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../store/access';
import type { Store } from '../../store/db';
import { fakePlan, sha } from '../support/store-fixtures';
import { testBackends } from '../support/backends';
import { SYSTEM } from '../../store/access';

for (const backend of testBackends()) {
  describe(`model registry on ${backend.name}`, () => {
    let store: Store;
    let approver: Principal;
    let viewer: Principal;
    before(async () => {
      store = await backend.open();
      for (let v = 1; v <= 3; v++)
        await store.artifacts.recordArtifact(SYSTEM, {
          sha256: sha(`fraud-model-${v}`),
          kind: 'model',
          size: 1000 * v,
        });
      approver = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' })).token,
      );
      viewer = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'victor', role: 'viewer' })).token,
      );
    });
    after(() => backend.close());

    it('numbers versions in order and registers an artifact once however often it is retried', async () => {
      const v1 = await store.registry.registerModelVersion(SYSTEM, {
        model: 'fraud',
        artifactSha256: sha('fraud-model-1'),
        metrics: { auc: 0.8 },
        signature: { inputs: ['amount'] },
      });
      const again = await store.registry.registerModelVersion(SYSTEM, {
        model: 'fraud',
        artifactSha256: sha('fraud-model-1'),
        metrics: { auc: 0.8 },
      });
      const [v2, v3] = await Promise.all([
        store.registry.registerModelVersion(SYSTEM, {
          model: 'fraud',
          artifactSha256: sha('fraud-model-2'),
          metrics: { auc: 0.82 },
        }),
        store.registry.registerModelVersion(SYSTEM, {
          model: 'fraud',
          artifactSha256: sha('fraud-model-3'),
          metrics: { auc: 0.85 },
        }),
      ]);
      assert.equal(v1.version, 1);
      assert.equal(again.version, 1);
      assert.deepEqual([v2.version, v3.version].sort(), [2, 3]);
      const registered = await store.audit.listAudit(SYSTEM, { action: 'model.register' });
      assert.equal(registered.length, 3);
    });

    it('refuses to register an artifact that is not recorded', async () => {
      await assert.rejects(
        store.registry.registerModelVersion(SYSTEM, { model: 'fraud', artifactSha256: sha('missing') }),
        {
          name: 'ConflictError',
        },
      );
    });

    it('lists models with versions, metrics and aliases', async () => {
      await store.registry.promote(approver, 'fraud', 1, 'staging');
      const [fraud] = await store.registry.listModels(SYSTEM);
      assert.equal(fraud!.name, 'fraud');
      assert.deepEqual(
        fraud!.versions.map((v) => v.version),
        [3, 2, 1],
      );
      assert.deepEqual(fraud!.versions.at(-1)!.metrics, { auc: 0.8 });
      assert.deepEqual(fraud!.versions.at(-1)!.aliases, ['staging']);
      assert.deepEqual(fraud!.aliases, { staging: 1 });
      assert.equal((await store.registry.getModelVersion(SYSTEM, 'fraud', 'staging')).version, 1);
    });

    it('promotes, then rolls back to each previous holder in turn', async () => {
      const first = await store.registry.promote(approver, 'fraud', 1, 'production');
      assert.deepEqual(first, { model: 'fraud', alias: 'production', version: 1, previous: null, changed: true });
      await store.registry.promote(approver, 'fraud', 2, 'production');
      const third = await store.registry.promote(approver, 'fraud', 3, 'production');
      assert.equal(third.previous, 2);
      assert.equal((await store.registry.promote(approver, 'fraud', 3, 'production')).changed, false);

      assert.deepEqual(await store.registry.rollback(approver, 'fraud', 'production'), {
        model: 'fraud',
        alias: 'production',
        version: 2,
        previous: 3,
        changed: true,
      });
      assert.equal((await store.registry.rollback(approver, 'fraud', 'production')).version, 1);
      await assert.rejects(store.registry.rollback(approver, 'fraud', 'production'), /no previous holder/);
      assert.equal((await store.registry.getModel(SYSTEM, 'fraud'))!.aliases.production, 1);

      const history = await store.registry.aliasHistory(SYSTEM, 'fraud', 'production');
      assert.deepEqual(
        history.map((h) => [h.action, h.version, h.previous, h.actor]),
        [
          ['promote', 1, null, 'alice'],
          ['promote', 2, 1, 'alice'],
          ['promote', 3, 2, 'alice'],
          ['rollback', 2, 3, 'alice'],
          ['rollback', 1, 2, 'alice'],
        ],
      );
      const moves = await store.audit.listAudit(SYSTEM, { subject: 'model:fraud#production' });
      assert.deepEqual(
        moves.map((m) => [m.action, m.before, m.after]),
        [
          ['model.alias.promote', null, { version: 1 }],
          ['model.alias.promote', { version: 1 }, { version: 2 }],
          ['model.alias.promote', { version: 2 }, { version: 3 }],
          ['model.alias.rollback', { version: 3 }, { version: 2 }],
          ['model.alias.rollback', { version: 2 }, { version: 1 }],
        ],
      );
    });

    it('refuses an alias move by a viewer, naming who, what and the role needed, and audits it', async () => {
      await assert.rejects(
        store.registry.promote(viewer, 'fraud', 3, 'production'),
        (e: Error) =>
          e.name === 'AccessDeniedError' &&
          /victor \(role viewer\) may not alias\.move on model:fraud@3: it needs the approver role/.test(e.message),
      );
      await assert.rejects(store.registry.rollback(viewer, 'fraud', 'production'), { name: 'AccessDeniedError' });
      assert.equal((await store.registry.getModel(SYSTEM, 'fraud'))!.aliases.production, 1);
      const denied = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'victor' });
      assert.equal(denied.length, 2);
      assert.deepEqual(denied[0]!.after, {
        action: 'alias.move',
        role: 'viewer',
        required: 'approver',
        tokenId: viewer.tokenId,
      });
    });

    it('records gate decisions and deployments by approvers only, each audited', async () => {
      await store.runs.recordRunStart(SYSTEM, {
        runId: 'gated',
        workflowId: 'wf-gated',
        plan: fakePlan('p', '1'),
      });
      await assert.rejects(store.decisions.recordDecision(viewer, { runId: 'gated', gate: 'review', approved: true }), {
        name: 'AccessDeniedError',
      });
      const approved = await store.decisions.recordDecision(approver, {
        runId: 'gated',
        gate: 'review',
        approved: true,
        comment: 'metrics fine',
        shown: { auc: 0.85 },
      });
      await store.decisions.recordDecision(approver, { runId: 'gated', gate: 'review', approved: true });
      assert.equal(approved.decidedBy, 'alice');
      await assert.rejects(
        store.decisions.recordDecision(approver, { runId: 'gated', gate: 'review', approved: false }),
        /already approved by alice/,
      );
      await store.decisions.recordDecision(approver, {
        runId: 'gated',
        gate: 'fairness',
        approved: false,
        comment: 'gap too wide',
      });
      assert.deepEqual(
        (await store.decisions.listDecisions(SYSTEM, 'gated')).map((d) => [d.gate, d.decision]),
        [
          ['review', 'approved'],
          ['fairness', 'rejected'],
        ],
      );

      await store.decisions.recordDeployment(approver, {
        key: 'fraud-3-edge',
        model: 'fraud',
        version: 3,
        target: 'edge',
        status: 'rolling-out',
      });
      await store.decisions.recordDeployment(approver, {
        key: 'fraud-3-edge',
        model: 'fraud',
        version: 3,
        target: 'edge',
        status: 'rolling-out',
      });
      const live = await store.decisions.recordDeployment(approver, {
        key: 'fraud-3-edge',
        model: 'fraud',
        version: 3,
        target: 'edge',
        status: 'live',
      });
      assert.equal(live.status, 'live');
      await assert.rejects(
        store.decisions.recordDeployment(viewer, {
          key: 'x',
          model: 'fraud',
          version: 3,
          target: 'edge',
          status: 'live',
        }),
        { name: 'AccessDeniedError' },
      );
      const actions = (await store.audit.listAudit(SYSTEM, { actor: 'alice' }))
        .map((e) => e.action)
        .filter((a) => a.startsWith('gate.') || a === 'model.deploy');
      assert.deepEqual(actions, ['gate.approve', 'gate.reject', 'model.deploy', 'model.deploy']);
      assert.equal((await store.audit.verifyAudit(SYSTEM)).ok, true);
    });
  });
}
