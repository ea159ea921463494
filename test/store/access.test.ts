import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { can, SYSTEM, tokenSha256 } from '../../store/access';
import type { Store } from '../../store/db';
import { testBackends } from '../support/backends';

for (const backend of testBackends()) {
  describe(`access on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());

    it('ranks roles viewer < operator < approver < admin', () => {
      assert.deepEqual(
        ['viewer', 'operator', 'approver', 'admin'].map((r) => can(r as never, 'run.start')),
        [false, true, true, true],
      );
      assert.deepEqual(
        ['viewer', 'operator', 'approver', 'admin'].map((r) => can(r as never, 'gate.approve')),
        [false, false, true, true],
      );
      assert.deepEqual(
        ['viewer', 'operator', 'approver', 'admin'].map((r) => can(r as never, 'principal.manage')),
        [false, false, false, true],
      );
      assert.equal(can('viewer', 'read'), true);
    });

    it('makes exactly one first admin when two first commands race, and none once principals exist', async () => {
      const made = await Promise.all([store.bootstrapAdmin('first'), store.bootstrapAdmin('second')]);
      const winners = made.filter((m) => m !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await store.authenticate(winners[0]!.token)).role, 'admin');
      assert.equal(await store.bootstrapAdmin('third'), undefined);
      assert.equal(
        (await store.principalByName('third')).role,
        'viewer',
        'a name the store does not know holds no more than viewer',
      );
    });

    it('returns a token once, keeps only its sha256, and authenticates it to the principal and role', async () => {
      const created = await store.createToken({ name: 'alice', role: 'approver', label: 'laptop' });
      assert.match(created.token, /^kiln_[A-Za-z0-9_-]{43}$/);
      const principal = await store.authenticate(created.token);
      assert.deepEqual(principal, {
        id: created.principal.id,
        name: 'alice',
        role: 'approver',
        tokenId: created.tokenId,
      });
      const dump =
        JSON.stringify(await store.db.execute(sql`select * from api_tokens`)) + JSON.stringify(await store.listAudit());
      assert.ok(!dump.includes(created.token), 'the plaintext token is stored nowhere');
      assert.ok(dump.includes(tokenSha256(created.token)));
      const [event] = await store.listAudit({ action: 'token.create', subject: 'principal:alice' });
      assert.deepEqual(event!.after, { tokenId: created.tokenId, role: 'approver', label: 'laptop', expiresAt: null });
      assert.equal(event!.actor, 'system');
    });

    it('refuses an unknown, revoked or expired token and audits the refusal', async () => {
      await assert.rejects(store.authenticate('kiln_not-a-token'), { name: 'AuthenticationError' });
      const revoked = await store.createToken({ name: 'bob', role: 'operator' });
      await store.revokeToken(revoked.tokenId);
      await assert.rejects(store.authenticate(revoked.token), { name: 'AuthenticationError' });
      const expired = await store.createToken({
        name: 'bob',
        role: 'operator',
        expiresAt: new Date(Date.now() - 1000),
      });
      await assert.rejects(store.authenticate(expired.token), { name: 'AuthenticationError' });
      assert.equal((await store.listAudit({ action: 'auth.refused' })).length, 3);
    });

    it('lets only admins manage principals and tokens', async () => {
      const operator = await store.authenticate((await store.createToken({ name: 'olga', role: 'operator' })).token);
      const admin = await store.authenticate((await store.createToken({ name: 'root', role: 'admin' })).token);
      await assert.rejects(
        store.createToken({ name: 'olga', role: 'admin', actor: operator }),
        (e: Error) =>
          e.name === 'AccessDeniedError' &&
          /olga \(role operator\) may not token\.create .* needs the admin role/.test(e.message),
      );
      await assert.rejects(store.createPrincipal('eve', { actor: operator }), { name: 'AccessDeniedError' });
      const eve = await store.createPrincipal('eve', { kind: 'service', actor: admin });
      assert.equal((await store.createPrincipal('eve', { actor: admin })).id, eve.id);
      const token = await store.createToken({ name: 'eve', role: 'viewer', actor: admin });
      assert.equal((await store.authenticate(token.token)).name, 'eve');
      const people = await store.listPrincipals();
      assert.deepEqual(
        people.find((p) => p.name === 'eve')!.tokens.map((t) => t.role),
        ['viewer'],
      );
      assert.equal((await store.listAudit({ action: 'principal.create', subject: 'principal:eve' })).length, 1);
    });

    it('audits a refused approval by a viewer and throws a named error', async () => {
      const viewer = await store.authenticate((await store.createToken({ name: 'victor', role: 'viewer' })).token);
      await assert.rejects(
        store.authorize(viewer, 'gate.approve', 'run:r1#deploy'),
        (e: Error & { required?: string; action?: string; who?: string }) =>
          e.name === 'AccessDeniedError' &&
          e.who === 'victor' &&
          e.action === 'gate.approve' &&
          e.required === 'approver',
      );
      const [denied] = await store.listAudit({ action: 'access.denied', actor: 'victor' });
      assert.equal(denied!.subject, 'run:r1#deploy');
      await store.authorize(viewer, 'read');
      await store.authorize(SYSTEM, 'principal.manage');
      assert.equal((await store.verifyAudit()).ok, true);
    });
  });
}
