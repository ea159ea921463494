import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { storeContext } from '../../activities/data/store-context';
import { linearModel } from '../../activities/evaluate/validation-fixtures';
import { setAliasImpl } from '../../activities/registry';
import type { Store } from '../../store';

type Ctx = Awaited<ReturnType<typeof storeContext>>;

const approvedBy = (by: string) => ({ approved: true, by, at: '2026-11-27T10:00:00.000Z' });

describe('registry.setAlias', () => {
  let store: Store;
  let ctx: Ctx;
  before(async () => {
    ctx = await storeContext();
    store = ctx.store;
    for (const weight of [1, 2]) {
      const model = await linearModel(ctx.artifacts, { weight });
      await store.recordArtifact({ sha256: model.sha256, kind: 'model', size: model.size });
      await store.registerModelVersion({ model: 'credit', artifactSha256: model.sha256 });
    }
    await store.createToken({ name: 'alice', role: 'approver' });
    await store.createToken({ name: 'victor', role: 'viewer' });
  });
  after(async () => {
    await ctx.dispose();
  });

  it('moves the alias as the approving principal, who is on record as having moved it', async () => {
    const out = await setAliasImpl.run({ name: 'credit', version: 1, alias: 'production', approval: approvedBy('alice') }, ctx);
    assert.deepEqual(out, { name: 'credit', alias: 'production', version: 1, previous: null, changed: true, by: 'alice' });
    assert.equal((await store.getModelVersion('credit', 'production')).version, 1);
    const moves = await store.aliasHistory('credit', 'production');
    assert.deepEqual(moves.map((m) => [m.actor, m.version]), [['alice', 1]]);
    const again = await setAliasImpl.run({ name: 'credit', version: 1, alias: 'production', approval: approvedBy('alice') }, ctx);
    assert.equal(again.changed, false);
  });

  it('refuses a viewer\'s approval, leaves the alias where it was and audits the refusal', async () => {
    await assert.rejects(setAliasImpl.run({ name: 'credit', version: 2, alias: 'production', approval: approvedBy('victor') }, ctx), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure && error.nonRetryable);
      assert.equal(error.type, 'AccessDenied');
      assert.match(error.message, /victor \(role viewer\) may not alias\.move on model:credit@2: it needs the approver role/);
      return true;
    });
    assert.equal((await store.getModelVersion('credit', 'production')).version, 1);
    const denied = (await store.listAudit()).filter((e) => e.action === 'access.denied' && e.actor === 'victor');
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.subject, 'model:credit@2');
  });

  it('refuses an approver the store does not know, and audits that too', async () => {
    await assert.rejects(setAliasImpl.run({ name: 'credit', version: 2, alias: 'production', approval: approvedBy('mallory') }, ctx), /mallory \(role viewer\) may not alias\.move/);
    assert.ok((await store.listAudit()).some((e) => e.action === 'access.denied' && e.actor === 'mallory'));
  });

  it('fails clearly without a store', async () => {
    await assert.rejects(
      setAliasImpl.run({ name: 'credit', version: 2, alias: 'production' }, { ...ctx, store: undefined }),
      /registry steps need a store; start the worker with one/,
    );
  });
});
