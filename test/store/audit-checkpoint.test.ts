import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { auditHash, SYSTEM, type Store } from '../../store';
import {
  AuditTamperedError,
  checkpointFiles,
  checkTrail,
  writeCheckpoint,
  type CheckpointFiles,
} from '../../store/audit-checkpoint';
import { testBackends, type TestBackend } from '../support/backends';

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What someone holding the database owner's password can do: change a record and re-hash the chain after it. */
async function rewriteAndRechain(backend: TestBackend, store: Store, seq: number, actor: string): Promise<void> {
  const events = await store.audit.listAudit(SYSTEM, { limit: 100000 });
  const updates: string[] = [];
  let prevHash = events[seq - 2]?.hash ?? '0'.repeat(64);
  for (const event of events.slice(seq - 1)) {
    const changed = event.seq === seq ? { ...event, actor } : event;
    const hash = auditHash(prevHash, changed);
    updates.push(
      `update audit_events set actor = ${quote(changed.actor)}, prev_hash = ${quote(prevHash)}, hash = ${quote(hash)} where seq = ${event.seq};`,
    );
    prevHash = hash;
  }
  await backend.exec(`
    alter table audit_events disable trigger audit_events_append_only;
    ${updates.join('\n')}
    alter table audit_events enable trigger audit_events_append_only;`);
}

async function deleteFrom(backend: TestBackend, seq: number): Promise<void> {
  await backend.exec(`
    alter table audit_events disable trigger audit_events_append_only;
    delete from audit_events where seq >= ${seq};
    alter table audit_events enable trigger audit_events_append_only;`);
}

const append = (store: Store, n: number) =>
  (async () => {
    for (let i = 0; i < n; i++)
      await store.audit.appendAudit(SYSTEM, { actor: 'alice', action: 'test.event', subject: `item:${i}` });
  })();

for (const backend of testBackends()) {
  describe(`signed audit checkpoints on ${backend.name}`, () => {
    let store: Store;
    let dir: string;
    let files: CheckpointFiles;
    before(async () => {
      store = await backend.open();
    });
    after(() => backend.close());
    // Each test tampers with the trail, so each starts from a fresh key, log and trail.
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-audit-'));
      files = checkpointFiles(join(dir, 'home'), {});
      await backend.exec(`
        alter table audit_events disable trigger audit_events_no_truncate;
        truncate audit_events;
        alter table audit_events enable trigger audit_events_no_truncate;`);
    });

    it('verifies a clean trail against its checkpoints, and keeps the key and log to this user', async () => {
      await append(store, 3);
      const first = await writeCheckpoint(store.audit, SYSTEM, files);
      assert.equal(first?.seq, 3);
      assert.equal(await writeCheckpoint(store.audit, SYSTEM, files), undefined, 'nothing new to sign');
      await append(store, 2);
      assert.equal((await writeCheckpoint(store.audit, SYSTEM, files))?.seq, 5);
      await append(store, 1);
      const result = await checkTrail(store.audit, SYSTEM, files);
      assert.deepEqual({ ...result, last: undefined }, { ok: true, count: 6, checkpoints: 2, last: undefined });
      assert.equal((await stat(files.key)).mode & 0o777, 0o600);
      assert.equal((await stat(files.log)).mode & 0o777, 0o600);
      await rm(dir, { recursive: true });
    });

    it('names the rewritten record when a row is changed and the chain re-hashed in SQL', async () => {
      await append(store, 4);
      await writeCheckpoint(store.audit, SYSTEM, files);
      await append(store, 3);
      await writeCheckpoint(store.audit, SYSTEM, files);
      await rewriteAndRechain(backend, store, 6, 'mallory');
      // The chain alone cannot tell: it was re-hashed.
      assert.deepEqual(await store.audit.verifyAudit(SYSTEM), { ok: true, count: 7 });
      const result = await checkTrail(store.audit, SYSTEM, files);
      assert.ok(!result.ok, JSON.stringify(result));
      assert.equal(result.problem, 'rewritten');
      assert.equal(result.seq, 7);
      assert.match(result.reason, /a record from #5 to #7 was rewritten and the chain re-hashed/);
      await assert.rejects(writeCheckpoint(store.audit, SYSTEM, files), AuditTamperedError);
      await rm(dir, { recursive: true });
    });

    it('detects the newest records deleted below the last checkpoint', async () => {
      await append(store, 5);
      await writeCheckpoint(store.audit, SYSTEM, files);
      await deleteFrom(backend, 4);
      assert.deepEqual(await store.audit.verifyAudit(SYSTEM), { ok: true, count: 3 });
      const result = await checkTrail(store.audit, SYSTEM, files);
      assert.ok(!result.ok && result.problem === 'truncated' && result.seq === 4, JSON.stringify(result));
      assert.match(result.reason, /the trail ends at #3, but a checkpoint signed .* covers #5: records #4 to #5/);
      // New events appended where the removed ones were do not hide it.
      await append(store, 3);
      const refilled = await checkTrail(store.audit, SYSTEM, files);
      assert.ok(!refilled.ok && refilled.problem === 'rewritten' && refilled.seq === 5, JSON.stringify(refilled));
      await rm(dir, { recursive: true });
    });

    it('refuses checkpoints under another key, or edited in the log', async () => {
      await append(store, 2);
      await writeCheckpoint(store.audit, SYSTEM, files);
      const genuine = await readFile(files.log, 'utf8');
      // A checkpoint signed with someone else's key, checked against the store's key.
      const other = { ...files, key: join(dir, 'other.pem') };
      const { privateKey } = generateKeyPairSync('ed25519');
      await writeFile(other.key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const wrongKey = await checkTrail(store.audit, SYSTEM, other);
      assert.ok(!wrongKey.ok && wrongKey.problem === 'signature' && wrongKey.seq === 2, JSON.stringify(wrongKey));
      assert.match(wrongKey.reason, /does not verify with the key/);
      // A checkpoint moved to a rewritten head without the key to sign it.
      await rewriteAndRechain(backend, store, 2, 'mallory');
      const [head] = await store.audit.listAudit(SYSTEM, { newestFirst: true, limit: 1 });
      const forged = JSON.stringify({ ...JSON.parse(genuine), hash: head!.hash });
      await writeFile(files.log, `${forged}\n`);
      const edited = await checkTrail(store.audit, SYSTEM, files);
      assert.ok(!edited.ok && edited.problem === 'signature', JSON.stringify(edited));
      await rm(dir, { recursive: true });
    });

    it('names the first bad record when the chain itself is broken', async () => {
      await append(store, 3);
      await writeCheckpoint(store.audit, SYSTEM, files);
      await backend.exec(`
        alter table audit_events disable trigger audit_events_append_only;
        update audit_events set actor = 'mallory' where seq = 2;
        alter table audit_events enable trigger audit_events_append_only;`);
      const result = await checkTrail(store.audit, SYSTEM, files);
      assert.ok(!result.ok && result.problem === 'record' && result.seq === 2, JSON.stringify(result));
      await rm(dir, { recursive: true });
    });

    it('names the file and line of a log line that is not a checkpoint', async () => {
      await append(store, 1);
      await writeCheckpoint(store.audit, SYSTEM, files);
      await writeFile(files.log, `${await readFile(files.log, 'utf8')}{"seq": "1; drop table runs"}\n`);
      await assert.rejects(checkTrail(store.audit, SYSTEM, files), {
        message: `${files.log}:2: not a checkpoint (needs seq >= 1, hash, at, key and signature)`,
      });
      await rm(dir, { recursive: true });
    });
  });
}
