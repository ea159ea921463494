import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { pipeline } from '../../dsl';
import { openStore, SYSTEM, type Store } from '../../store';
import { statusQuery } from '../../workflows';
import { approve } from '../../cli/commands/approve';
import { audit } from '../../cli/commands/audit';
import { lineage } from '../../cli/commands/lineage';
import { models } from '../../cli/commands/models';
import { run } from '../../cli/commands/run';
import { token } from '../../cli/commands/token';
import { engine } from '../fixtures/engine';
import { add, noop, testSteps } from '../fixtures/steps';

// The CLI as a user drives it, against a real dev server and the PGlite store a worker shares:
// roles decide who may approve and move aliases, and every refusal lands in the audit trail.

const gated = pipeline({ name: 'governed' }, (p) => {
  const score = p.step(add, { a: 40, b: 2 });
  const ok = p.approval('release', { show: { score: score.sum }, timeout: '1m' });
  return p.step(noop, { after: ok.by });
});

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('kiln CLI governance', () => {
  let home: string;
  let store: Store;
  let kiln: Awaited<ReturnType<typeof engine>>;
  const tokens: Record<string, string> = {};
  const saved = { ...process.env };
  const out: string[] = [];
  const print = (line: string) => {
    out.push(line);
  };

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'kiln-cli-'));
    // The worker's process serves the store, as `kiln dev` does; the commands below connect to it.
    store = await openStore({ dir: join(home, 'db'), share: true });
    kiln = await engine(testSteps, { store });
    Object.assign(process.env, { KILN_HOME: home, TEMPORAL_ADDRESS: kiln.address, KILN_TASK_QUEUE: kiln.taskQueue });
    delete process.env.DATABASE_URL;
    delete process.env.KILN_TOKEN;
    for (const [name, role] of [
      ['ada', 'admin'],
      ['alice', 'approver'],
      ['victor', 'viewer'],
    ] as const) {
      tokens[name] = (await store.access.createToken(SYSTEM, { name, role })).token;
    }
  });
  after(async () => {
    process.env = saved;
    await kiln.stop();
    await store.close();
    await rm(home, { recursive: true, force: true });
  });

  it("refuses an approval by a viewer, audits the refusal, and takes the approver's", async () => {
    const handle = await kiln.start(gated);
    for (
      let i = 0;
      i < 200 && (await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status !== 'waiting';
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(
      approve([handle.workflowId, 'release', '--token', tokens.victor!], print),
      (e: Error) => e.name === 'AccessDeniedError' && /victor/.test(e.message) && /approver/.test(e.message),
    );
    assert.equal(
      (await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status,
      'waiting',
      'the refused decision never reached the run',
    );
    const denied = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'victor' });
    assert.equal(denied.length, 1);
    assert.equal(denied[0]!.subject, `run:${handle.workflowId}#release`);

    assert.equal(
      await approve([handle.workflowId, 'release', '--comment', 'ship it', '--token', tokens.alice!], print),
      0,
    );
    const result = await handle.result();
    assert.equal(result.nodes.find((n) => n.id === 'release')?.gate?.decision?.by, 'alice');
    const [approval] = await store.audit.listAudit(SYSTEM, {
      action: 'gate.approve',
      subject: `run:${handle.workflowId}#release`,
    });
    assert.equal(approval?.actor, 'alice');
    assert.deepEqual((approval?.after as { shown: unknown }).shown, { score: 42 });
    // The run itself is on record, with the same id, finished.
    assert.equal((await store.runs.getRun(SYSTEM, handle.workflowId))?.status, 'succeeded');
  });

  it('moves aliases only for approvers, and rolls back to the previous holder', async () => {
    for (const n of [1, 2]) {
      await store.artifacts.recordArtifact(SYSTEM, { sha256: sha(n), kind: 'model', size: 10 });
      await store.registry.registerModelVersion(SYSTEM, {
        model: 'scorer',
        artifactSha256: sha(n),
        metrics: { roc_auc: 0.8 + n / 100 },
      });
    }
    await assert.rejects(
      models(['promote', 'scorer@1', '--alias', 'production', '--token', tokens.victor!], print),
      /victor.*approver/s,
    );
    assert.equal(await models(['promote', 'scorer@1', '--alias', 'production', '--token', tokens.alice!], print), 0);
    assert.equal(await models(['promote', 'scorer@2', '--alias', 'production', '--token', tokens.alice!], print), 0);
    assert.equal(await models(['rollback', 'scorer', '--alias', 'production', '--token', tokens.alice!], print), 0);
    assert.equal((await store.registry.getModel(SYSTEM, 'scorer'))?.aliases.production, 1);
    out.length = 0;
    assert.equal(await models(['list', '--token', tokens.victor!], print), 0);
    assert.match(out.join('\n'), /scorer {2}\(production → 1\)[\s\S]*v2[\s\S]*v1 .*\[production\] {2}roc_auc=0\.8100/);
  });

  it('starts runs only for operators and above', async () => {
    const file = join(home, 'sum.ts');
    await writeFile(
      file,
      `import { pipeline } from '${join(process.cwd(), 'dsl')}';
import { add } from '${join(process.cwd(), 'test/fixtures/steps')}';
import { SYSTEM } from '../../store/access';
export default pipeline({ name: 'cli-sum' }, (p) => p.step(add, { a: 2, b: 3 }).sum);\n`,
    );
    await assert.rejects(run([file, '--detach', '--token', tokens.victor!], print), /victor.*operator/s);
    assert.equal(
      (await store.audit.listAudit(SYSTEM, { action: 'access.denied', subject: 'pipeline:cli-sum' })).length,
      1,
    );
    assert.equal(
      (await store.runs.listRuns(SYSTEM, { pipeline: 'cli-sum' })).length,
      0,
      'a refused start leaves no run',
    );
    out.length = 0;
    assert.equal(await run([file, '--token', tokens.alice!, '--steps', 'test/fixtures/steps-module.ts'], print), 0);
    assert.match(out.join('\n'), /Result: 5$/);
  });

  it('creates tokens only as admin, showing the token once', async () => {
    await assert.rejects(
      token(['create', '--name', 'mallory', '--role', 'admin', '--token', tokens.alice!], print),
      /alice.*admin/s,
    );
    out.length = 0;
    assert.equal(await token(['create', '--name', 'olive', '--role', 'operator', '--token', tokens.ada!], print), 0);
    const created = out.join('\n').match(/kiln_[\w-]+/)?.[0];
    assert.ok(created, 'the token is printed');
    assert.equal((await store.access.authenticate(created)).role, 'operator');
    assert.ok(
      !JSON.stringify(await store.audit.listAudit(SYSTEM, { action: 'token.create' })).includes(created),
      'the audit trail never holds the secret',
    );
  });

  it('prints lineage as JSON for machines', async () => {
    const handle = await kiln.start(pipeline({ name: 'sum' }, (p) => p.step(add, { a: 1, b: 2 })));
    await handle.result();
    out.length = 0;
    assert.equal(await lineage([`run:${handle.workflowId}`, '--json', '--token', tokens.victor!], print), 0);
    const graph = JSON.parse(out.join('\n')) as {
      nodes: Array<{ type: string; runId?: string; planHash?: string; status?: string }>;
    };
    const run = graph.nodes.find((n) => n.type === 'run');
    assert.equal(run?.runId, handle.workflowId);
    assert.equal(run?.status, 'succeeded');
    assert.ok(graph.nodes.some((n) => n.type === 'step'));
  });

  it('verifies the audit trail, and names the first record altered behind the trigger', async () => {
    out.length = 0;
    assert.equal(await audit(['verify', '--token', tokens.victor!], print), 0);
    assert.match(out.join('\n'), /intact: \d+ events, hash chain verified\. No signed checkpoint/);
    out.length = 0;
    assert.equal(await audit(['checkpoint', '--token', tokens.victor!], print), 0);
    assert.match(out.join('\n'), /Signed checkpoint of #\d+ .* appended to .*audit-checkpoints\.jsonl/);
    out.length = 0;
    assert.equal(await audit(['verify', '--token', tokens.victor!], print), 0);
    assert.match(out.join('\n'), /1 signed checkpoint holds/);
    const [first] = await store.audit.listAudit(SYSTEM, { limit: 1 });
    await store.db.execute(
      sql.raw(`alter table audit_events disable trigger audit_events_append_only;
      update audit_events set actor = 'someone-else' where seq = ${first!.seq};
      alter table audit_events enable trigger audit_events_append_only;`),
    );
    out.length = 0;
    assert.equal(await audit(['verify', '--token', tokens.victor!], print), 1);
    assert.match(out.join('\n'), new RegExp(`TAMPERED at event #${first!.seq}`));
  });
});
