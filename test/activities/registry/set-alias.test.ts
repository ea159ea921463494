import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { storeContext } from '../../support/store-context';
import { linearModel } from '../../fixtures/models';
import { setAliasImpl } from '../../../activities/registry/set-alias';
import { SYSTEM, type Store } from '../../../store';
import { stepStore } from '../../../workers/step-store';
import { startRun } from '../../support/store-fixtures';

type Ctx = Awaited<ReturnType<typeof storeContext>>;

const approvedBy = (by: string, gate = 'release') => ({ gate, approved: true, by, at: '2026-11-27T10:00:00.000Z' });

describe('registry.setAlias', () => {
  let store: Store;
  let ctx: Ctx;
  before(async () => {
    ctx = await storeContext();
    store = ctx.full;
    for (const weight of [1, 2]) {
      const model = await linearModel(ctx.artifacts, { weight });
      await store.artifacts.recordArtifact(SYSTEM, { sha256: model.sha256, kind: 'model', size: model.size });
      await store.registry.registerModelVersion(SYSTEM, { model: 'credit', artifactSha256: model.sha256 });
    }
    await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver' });
    await store.access.createToken(SYSTEM, { name: 'victor', role: 'viewer' });
    // The approval on record, as `kiln approve` writes it after checking alice's token.
    await startRun(store, ctx.run.workflowId);
    await store.decisions.recordDecision(await store.access.principalByName(SYSTEM, 'alice'), {
      runId: ctx.run.workflowId,
      gate: 'release',
      approved: true,
    });
  });
  after(async () => {
    await ctx.dispose();
  });

  it('moves the alias as the approving principal, who is on record as having moved it', async () => {
    const out = await setAliasImpl.run(
      { name: 'credit', version: 1, alias: 'production', approval: approvedBy('alice') },
      ctx,
    );
    assert.deepEqual(out, {
      name: 'credit',
      alias: 'production',
      version: 1,
      previous: null,
      changed: true,
      by: 'alice',
    });
    assert.equal((await store.registry.getModelVersion(SYSTEM, 'credit', 'production')).version, 1);
    const moves = await store.registry.aliasHistory(SYSTEM, 'credit', 'production');
    assert.deepEqual(
      moves.map((m) => [m.actor, m.version]),
      [['alice', 1]],
    );
    const again = await setAliasImpl.run(
      { name: 'credit', version: 1, alias: 'production', approval: approvedBy('alice') },
      ctx,
    );
    assert.equal(again.changed, false);
    // alice's approval of one gate is not an approval of another.
    await assert.rejects(
      setAliasImpl.run(
        { name: 'credit', version: 2, alias: 'production', approval: approvedBy('alice', 'hello') },
        ctx,
      ),
      /no approval by alice at gate 'hello'/,
    );
  });

  it('refuses an approval the store has no record of (one sent to the run directly), and audits it', async () => {
    // victor could not have recorded it: recordDecision refuses a viewer.
    await assert.rejects(
      store.decisions.recordDecision(await store.access.principalByName(SYSTEM, 'victor'), {
        runId: ctx.run.workflowId,
        gate: 'release',
        approved: true,
      }),
      { name: 'AccessDeniedError' },
    );
    for (const forger of ['victor', 'mallory']) {
      await assert.rejects(
        setAliasImpl.run({ name: 'credit', version: 2, alias: 'production', approval: approvedBy(forger) }, ctx),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
          assert.equal(error.type, 'AccessDenied');
          assert.match(
            error.message,
            new RegExp(`no approval by ${forger} at gate 'release' is on record for run ${ctx.run.workflowId}`),
          );
          return true;
        },
      );
      assert.ok(
        (await store.audit.listAudit(SYSTEM)).some(
          (e) => e.action === 'access.denied' && e.actor === forger && e.subject === 'model:credit@2',
        ),
      );
    }
    assert.equal((await store.registry.getModelVersion(SYSTEM, 'credit', 'production')).version, 1);
  });

  it('refuses a recorded approver who has since lost the role, and audits that too', async () => {
    await store.access.createToken(SYSTEM, { name: 'olga', role: 'approver' });
    const olgaRun = { ...ctx, run: { ...ctx.run, workflowId: 'olga-run' }, store: stepStore(store, 'olga-run') };
    await startRun(store, 'olga-run');
    await store.decisions.recordDecision(await store.access.principalByName(SYSTEM, 'olga'), {
      runId: 'olga-run',
      gate: 'release',
      approved: true,
    });
    for (const p of await store.access.listPrincipals(SYSTEM))
      if (p.name === 'olga') for (const t of p.tokens) await store.access.revokeToken(SYSTEM, t.id);
    await assert.rejects(
      setAliasImpl.run({ name: 'credit', version: 2, alias: 'production', approval: approvedBy('olga') }, olgaRun),
      /olga \(no live token\) may not alias\.move/,
    );
    assert.ok((await store.audit.listAudit(SYSTEM)).some((e) => e.action === 'access.denied' && e.actor === 'olga'));
  });

  it('fails clearly without a store', async () => {
    await assert.rejects(
      setAliasImpl.run(
        { name: 'credit', version: 2, alias: 'production', approval: approvedBy('alice') },
        { ...ctx, store: undefined },
      ),
      /registry steps need a store; start the worker with one/,
    );
  });
});
