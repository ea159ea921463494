import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openStore, SYSTEM, type Principal, type Store } from '../../store';
import { grantLogin, grantRoles } from '../../store/grants';
import { store as storeCommand } from '../../cli/commands/store';
import { postgres, type TestPostgres } from '../support/postgres';
import { sha, startRun } from '../support/store-fixtures';

// The database itself, not Kiln's code, refuses these: each is tried with a plain SQL client
// logged in as a login holding one of Kiln's database roles, as someone with psql would.

const suffix = `${process.pid}_${Date.now().toString(36)}`;
const login = { victor: `victor_${suffix}`, alice: `alice_${suffix}`, worker: `worker_${suffix}` };

const urlAs = (url: string, user: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
};

async function sqlAs(url: string, user: string, text: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: urlAs(url, user) });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

const refused = /permission denied|row-level security|must be owner/;

describe('database roles on PostgreSQL', () => {
  let db: TestPostgres;
  let owner: Store;
  let runId: string;
  let modelId: string;
  let versionId: string;
  let principalId: string;

  before(async () => {
    db = await postgres();
    owner = await openStore({ url: db.url });
    for (const name of Object.values(login)) await owner.db.execute(sql.raw(`create role ${name} login`));
    await grantRoles(owner.db);
    await grantLogin(owner.db, login.victor, 'viewer');
    await grantLogin(owner.db, login.alice, 'approver');
    await grantLogin(owner.db, login.worker, 'worker');
    await owner.access.createToken(SYSTEM, { name: login.alice, role: 'approver' });
    const victor = await owner.access.createToken(SYSTEM, { name: login.victor, role: 'viewer' });
    principalId = victor.principal.id!;
    runId = 'run-grants';
    await startRun(owner, runId);
    await owner.artifacts.recordArtifact(SYSTEM, { sha256: sha('m1'), kind: 'model', size: 1 });
    const version = await owner.registry.registerModelVersion(SYSTEM, { model: 'credit', artifactSha256: sha('m1') });
    versionId = version.id;
    const [model] = (await sqlAs(db.url, login.victor, `select id from models where name = 'credit'`)) as Array<{
      id: string;
    }>;
    modelId = model!.id;
  });
  after(async () => {
    for (const name of Object.values(login)) await owner.db.execute(sql.raw(`drop role if exists ${name}`));
    await owner.close();
    await db.stop();
  });

  for (const who of ['victor', 'alice', 'worker'] as const) {
    it(`refuses ${who} changing, removing or unhooking audit events`, async () => {
      for (const statement of [
        `update audit_events set actor = 'mallory' where seq = 1`,
        'delete from audit_events where seq = 1',
        'truncate audit_events',
        'alter table audit_events disable trigger audit_events_append_only',
        'drop trigger audit_events_append_only on audit_events',
      ])
        await assert.rejects(sqlAs(db.url, login[who], statement), refused, `${who}: ${statement}`);
    });

    it(`refuses ${who} inserting a token or a principal`, async () => {
      await assert.rejects(
        sqlAs(
          db.url,
          login[who],
          `insert into api_tokens (principal_id, token_sha256, role, created_by) values ('${principalId}', '${sha('forged')}', 'admin', 'mallory')`,
        ),
        refused,
      );
      await assert.rejects(sqlAs(db.url, login[who], `insert into principals (name) values ('mallory')`), refused);
    });
  }

  it('refuses a viewer inserting an approval, moving an alias or writing its history', async () => {
    await assert.rejects(
      sqlAs(
        db.url,
        login.victor,
        `insert into approvals (run_id, gate, decision, decided_by) values ('${runId}', 'release', 'approved', '${login.victor}')`,
      ),
      refused,
    );
    await assert.rejects(
      sqlAs(
        db.url,
        login.victor,
        `insert into model_aliases (model_id, alias, version_id, updated_by) values ('${modelId}', 'production', '${versionId}', '${login.victor}')`,
      ),
      refused,
    );
    await assert.rejects(
      sqlAs(
        db.url,
        login.victor,
        `insert into model_alias_history (model_id, alias, action, version_id, actor) values ('${modelId}', 'production', 'promote', '${versionId}', '${login.victor}')`,
      ),
      refused,
    );
  });

  it('refuses a login writing an audit event, a decision or an alias move in another name', async () => {
    await assert.rejects(
      sqlAs(
        db.url,
        login.victor,
        `insert into audit_events (seq, at, actor, action, subject, prev_hash, hash) values (100000, now(), '${login.alice}', 'gate.approve', 'run:x', 'x', 'y')`,
      ),
      /row-level security/,
    );
    await assert.rejects(
      sqlAs(
        db.url,
        login.alice,
        `insert into approvals (run_id, gate, decision, decided_by) values ('${runId}', 'release', 'approved', 'someone-else')`,
      ),
      /row-level security/,
    );
    await assert.rejects(
      sqlAs(
        db.url,
        login.alice,
        `insert into model_aliases (model_id, alias, version_id, updated_by) values ('${modelId}', 'production', '${versionId}', 'someone-else')`,
      ),
      /row-level security/,
    );
  });

  it('refuses the worker writing a decision', async () => {
    await assert.rejects(
      sqlAs(
        db.url,
        login.worker,
        `insert into approvals (run_id, gate, decision, decided_by) values ('${runId}', 'release', 'approved', '${login.alice}')`,
      ),
      refused,
    );
  });

  it("lets each login do its own role's work through the store", async () => {
    const asViewer = await openStore({ url: urlAs(db.url, login.victor) });
    const asAlice = await openStore({ url: urlAs(db.url, login.alice) });
    const asWorker = await openStore({ url: urlAs(db.url, login.worker) });
    try {
      const viewer: Principal = await asViewer.access.principalByName(SYSTEM, login.victor);
      assert.equal((await asViewer.runs.getRun(viewer, runId))?.id, runId);
      // A refusal is audited under the viewer's own name, which its login may write.
      await assert.rejects(asViewer.registry.promote(viewer, 'credit', 1, 'production'), {
        name: 'AccessDeniedError',
      });
      const alice = await asAlice.access.principalByName(SYSTEM, login.alice);
      await asAlice.decisions.recordDecision(alice, { runId, gate: 'release', approved: true });
      assert.equal((await asAlice.registry.promote(alice, 'credit', 1, 'production')).changed, true);
      await startRun(asWorker, 'run-by-worker');
      await asWorker.audit.appendAudit(SYSTEM, { actor: 'system', action: 'test.worker', subject: 'run:x' });
      assert.deepEqual(await owner.audit.verifyAudit(SYSTEM), {
        ok: true,
        count: (await owner.audit.listAudit(SYSTEM, { limit: 100000 })).length,
      });
    } finally {
      await asViewer.close();
      await asAlice.close();
      await asWorker.close();
    }
  });

  it('kiln store grant gives a login one role, and refuses a login name that is not a role', async () => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = db.url;
    const out: string[] = [];
    try {
      assert.equal(await storeCommand(['grant', '--login', login.victor, '--role', 'operator'], (l) => out.push(l)), 0);
      assert.match(out.join('\n'), new RegExp(`Login '${login.victor}' now holds kiln_operator`));
      const memberOf = await sqlAs(
        db.url,
        login.victor,
        `select b.rolname from pg_auth_members m join pg_roles a on a.oid = m.member join pg_roles b on b.oid = m.roleid where a.rolname = session_user`,
      );
      assert.deepEqual(memberOf, [{ rolname: 'kiln_operator' }]);
      const hostile = `${login.victor}" ; drop table runs; --`;
      await assert.rejects(
        storeCommand(['grant', '--login', hostile, '--role', 'admin'], () => {}),
        {
          message: `no login role '${hostile}' on this server; a DBA creates it first (CREATE ROLE … LOGIN)`,
        },
      );
      await assert.rejects(
        storeCommand(['grant', '--login', login.victor, '--role', 'superuser'], () => {}),
        /unknown role 'superuser'/,
      );
      assert.equal((await owner.runs.getRun(SYSTEM, runId))?.id, runId);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
