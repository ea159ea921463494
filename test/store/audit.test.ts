import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Store } from '../../store/db';
import { testBackends } from '../support/backends';
import { SYSTEM } from '../../store/access';

for (const backend of testBackends()) {
  describe(`audit trail on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('chains each event to the previous one and verifies the whole trail', async () => {
      const a = await store.audit.appendAudit(SYSTEM, {
        actor: 'alice',
        action: 'gate.approve',
        subject: 'run:r1#deploy',
        after: { decision: 'approved' },
      });
      const b = await store.audit.appendAudit(SYSTEM, {
        actor: 'bob',
        action: 'model.deploy',
        subject: 'model:m@1',
        before: { status: 'none' },
        after: { status: 'live' },
      });
      assert.equal(b.seq, a.seq + 1);
      assert.equal(b.prevHash, a.hash);
      assert.deepEqual(
        (await store.audit.listAudit(SYSTEM, { newestFirst: true, limit: 1 })).map((e) => e.seq),
        [b.seq],
      );
      const result = await store.audit.verifyAudit(SYSTEM);
      assert.equal(result.ok, true);
    });

    it('never forks the chain under concurrent appends from several connections', async () => {
      const other = await backend.openAnother();
      const start = (await store.audit.listAudit(SYSTEM, { limit: 100000 })).length;
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? other : store).audit.appendAudit(SYSTEM, {
            actor: `writer-${i % 4}`,
            action: 'test.concurrent',
            subject: `item:${i}`,
          }),
        ),
      );
      const events = await store.audit.listAudit(SYSTEM, { limit: 100000 });
      assert.equal(events.length, start + 40);
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i + 1),
      );
      assert.deepEqual(await store.audit.verifyAudit(SYSTEM, { batchSize: 7 }), { ok: true, count: start + 40 });
    });

    it('refuses UPDATE, DELETE and TRUNCATE of audit events', async () => {
      await assert.rejects(
        backend.exec(`update audit_events set actor = 'mallory' where seq = 1`),
        /append-only: UPDATE refused/,
      );
      await assert.rejects(backend.exec('delete from audit_events where seq = 1'), /append-only: DELETE refused/);
      await assert.rejects(backend.exec('truncate audit_events'), /append-only: TRUNCATE refused/);
      assert.equal((await store.audit.listAudit(SYSTEM, { limit: 1 }))[0]!.actor, 'alice');
    });

    it('names the first altered record when a row is tampered with behind the trigger', async () => {
      await backend.exec(`
        alter table audit_events disable trigger audit_events_append_only;
        update audit_events set after = '{"decision":"rejected"}' where seq = 1;
        alter table audit_events enable trigger audit_events_append_only;`);
      const result = await store.audit.verifyAudit(SYSTEM);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && result.seq === 1 && /hash does not match/.test(result.reason), JSON.stringify(result));
    });

    it('names a record whose stored hash was rewritten, and a removed record', async () => {
      await backend.exec(`
        alter table audit_events disable trigger audit_events_append_only;
        update audit_events set after = '{"decision":"approved"}' where seq = 1;
        update audit_events set actor = 'mallory', hash = repeat('a', 64) where seq = 3;
        alter table audit_events enable trigger audit_events_append_only;`);
      const relinked = await store.audit.verifyAudit(SYSTEM);
      assert.ok(!relinked.ok && relinked.seq === 3, JSON.stringify(relinked));
      await backend.exec(`
        alter table audit_events disable trigger audit_events_append_only;
        delete from audit_events where seq = 3;
        alter table audit_events enable trigger audit_events_append_only;`);
      const removed = await store.audit.verifyAudit(SYSTEM);
      assert.ok(!removed.ok && removed.seq === 3 && /missing/.test(removed.reason), JSON.stringify(removed));
    });
  });
}
