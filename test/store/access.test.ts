import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { can, SYSTEM, tokenSha256 } from '../../store/access';
import type { Store } from '../../store/db';
import { testBackends } from '../support/backends';
import { fakePlan, sha, startRun } from '../support/store-fixtures';

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
      const made = await Promise.all([store.access.bootstrapAdmin('first'), store.access.bootstrapAdmin('second')]);
      const winners = made.filter((m) => m !== undefined);
      assert.equal(winners.length, 1);
      assert.equal((await store.access.authenticate(winners[0]!.token)).role, 'admin');
      assert.equal(await store.access.bootstrapAdmin('third'), undefined);
      assert.equal(
        (await store.access.principalByName(SYSTEM, 'third')).role,
        'viewer',
        'a name the store does not know holds no more than viewer',
      );
    });

    it('returns a token once, keeps only its sha256, and authenticates it to the principal and role', async () => {
      const created = await store.access.createToken(SYSTEM, { name: 'alice', role: 'approver', label: 'laptop' });
      assert.match(created.token, /^kiln_[A-Za-z0-9_-]{43}$/);
      const principal = await store.access.authenticate(created.token);
      assert.deepEqual(principal, {
        id: created.principal.id,
        name: 'alice',
        role: 'approver',
        tokenId: created.tokenId,
      });
      const dump =
        JSON.stringify(await store.db.execute(sql`select * from api_tokens`)) +
        JSON.stringify(await store.audit.listAudit(SYSTEM));
      assert.ok(!dump.includes(created.token), 'the plaintext token is stored nowhere');
      assert.ok(dump.includes(tokenSha256(created.token)));
      const [event] = await store.audit.listAudit(SYSTEM, { action: 'token.create', subject: 'principal:alice' });
      assert.deepEqual(event!.after, { tokenId: created.tokenId, role: 'approver', label: 'laptop', expiresAt: null });
      assert.equal(event!.actor, 'system');
    });

    it('refuses an unknown, revoked or expired token and audits the refusal', async () => {
      await assert.rejects(store.access.authenticate('kiln_not-a-token'), { name: 'AuthenticationError' });
      const revoked = await store.access.createToken(SYSTEM, { name: 'bob', role: 'operator' });
      await store.access.revokeToken(SYSTEM, revoked.tokenId);
      await assert.rejects(store.access.authenticate(revoked.token), { name: 'AuthenticationError' });
      const expired = await store.access.createToken(SYSTEM, {
        name: 'bob',
        role: 'operator',
        expiresAt: new Date(Date.now() - 1000),
      });
      await assert.rejects(store.access.authenticate(expired.token), { name: 'AuthenticationError' });
      assert.equal((await store.audit.listAudit(SYSTEM, { action: 'auth.refused' })).length, 3);
    });

    it('lets only admins manage principals and tokens', async () => {
      const operator = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'olga', role: 'operator' })).token,
      );
      const admin = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'root', role: 'admin' })).token,
      );
      await assert.rejects(
        store.access.createToken(operator, { name: 'olga', role: 'admin' }),
        (e: Error) =>
          e.name === 'AccessDeniedError' &&
          /olga \(role operator\) may not token\.create .* needs the admin role/.test(e.message),
      );
      await assert.rejects(store.access.createPrincipal(operator, 'eve'), { name: 'AccessDeniedError' });
      const eve = await store.access.createPrincipal(admin, 'eve', { kind: 'service' });
      assert.equal((await store.access.createPrincipal(admin, 'eve')).id, eve.id);
      const token = await store.access.createToken(admin, { name: 'eve', role: 'viewer' });
      assert.equal((await store.access.authenticate(token.token)).name, 'eve');
      const people = await store.access.listPrincipals(SYSTEM);
      assert.deepEqual(
        people.find((p) => p.name === 'eve')!.tokens.map((t) => t.role),
        ['viewer'],
      );
      assert.equal(
        (await store.audit.listAudit(SYSTEM, { action: 'principal.create', subject: 'principal:eve' })).length,
        1,
      );
    });

    it('audits a refused approval by a viewer and throws a named error', async () => {
      const viewer = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'victor', role: 'viewer' })).token,
      );
      await assert.rejects(
        store.access.authorize(viewer, 'gate.approve', 'run:r1#deploy'),
        (e: Error & { required?: string; action?: string; who?: string }) =>
          e.name === 'AccessDeniedError' &&
          e.who === 'victor' &&
          e.action === 'gate.approve' &&
          e.required === 'approver',
      );
      const [denied] = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'victor' });
      assert.equal(denied!.subject, 'run:r1#deploy');
      await store.access.authorize(viewer, 'read');
      await store.access.authorize(SYSTEM, 'principal.manage');
      assert.equal((await store.audit.verifyAudit(SYSTEM)).ok, true);
    });

    it('refuses a viewer every write, each refusal audited', async () => {
      const viewer = await store.access.authenticate(
        (await store.access.createToken(SYSTEM, { name: 'wanda', role: 'viewer' })).token,
      );
      const writes = [
        () =>
          store.runs.recordRunStart(viewer, {
            runId: 'by-wanda',
            workflowId: 'by-wanda',
            plan: fakePlan('wanda'),
          }),
        () => store.artifacts.recordArtifact(viewer, { sha256: sha('wanda'), kind: 'dataset', size: 1 }),
        () => store.registry.registerModelVersion(viewer, { model: 'wanda', artifactSha256: sha('wanda') }),
        () => store.audit.appendAudit(viewer, { actor: 'someone else', action: 'gate.approve', subject: 'run:x#y' }),
        () => store.decisions.recordDecision(viewer, { runId: 'r1', gate: 'deploy', approved: false }),
        () => store.access.createToken(viewer, { name: 'wanda', role: 'admin' }),
      ];
      for (const write of writes) await assert.rejects(write(), { name: 'AccessDeniedError' });
      assert.equal(await store.runs.getRun(viewer, 'by-wanda'), undefined);
      assert.equal(await store.artifacts.getArtifact(viewer, sha('wanda')), undefined);
      const denied = await store.audit.listAudit(viewer, { action: 'access.denied', actor: 'wanda' });
      assert.deepEqual(denied.map((e) => (e.after as { action: string }).action).sort(), [
        'gate.reject',
        'record',
        'record',
        'record',
        'record',
        'token.create',
      ]);
    });

    it('reads the role from the store by id, not from the principal it is handed', async () => {
      const created = await store.access.createToken(SYSTEM, { name: 'vince', role: 'viewer' });
      await assert.rejects(
        store.access.createToken({ ...created.principal, role: 'admin' }, { name: 'vince', role: 'admin' }),
        (e: Error) => e.name === 'AccessDeniedError' && /vince \(role viewer\) may not token\.create/.test(e.message),
      );
      // A copy of SYSTEM is not the worker: SYSTEM is known by identity.
      await assert.rejects(store.access.createToken({ ...SYSTEM }, { name: 'vince', role: 'admin' }), {
        name: 'AccessDeniedError',
      });
      await assert.rejects(store.access.authorize({ id: null, name: 'nobody', role: 'admin' }, 'read'), {
        name: 'AccessDeniedError',
      });
      assert.deepEqual(
        (await store.access.listPrincipals(SYSTEM)).find((p) => p.name === 'vince')!.tokens.map((t) => t.role),
        ['viewer'],
      );
    });

    it('refuses reads of lineage, runs, models and the audit trail to a revoked or unknown principal', async () => {
      await startRun(store, 'read-me');
      const created = await store.access.createToken(SYSTEM, { name: 'rita', role: 'viewer' });
      const rita = await store.access.authenticate(created.token);
      const reads = (who: typeof rita) => [
        () => store.lineage.upstream(who, { run: 'read-me' }),
        () => store.runs.getRun(who, 'read-me'),
        () => store.registry.listModels(who),
        () => store.audit.listAudit(who, { limit: 1 }),
      ];
      for (const read of reads(rita)) await read();
      await store.access.revokeToken(SYSTEM, created.tokenId);
      for (const read of reads(rita))
        await assert.rejects(
          read,
          (e: Error) => e.name === 'AccessDeniedError' && /rita \(no live token\)/.test(e.message),
        );
      for (const read of reads({ id: null, name: 'anonymous', role: 'viewer' }))
        await assert.rejects(read(), { name: 'AccessDeniedError' });
      const denied = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'rita' });
      assert.equal(denied.length, 4);
      assert.deepEqual(denied[0]!.after, { action: 'read', role: null, required: 'viewer', tokenId: created.tokenId });
    });
  });
}
