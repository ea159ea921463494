import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArtifactStore } from '../../activities/artifacts/store';
import { gc, parseWindow } from '../../cli/commands/gc';
import { SYSTEM, type Principal } from '../../store/access';
import { AccessDeniedError } from '../../store/errors';
import type { Store } from '../../store/db';
import type { Collected } from '../../store/retention';
import { testBackends } from '../support/backends';
import { runStep, startRun } from '../support/store-fixtures';

const DAY = 86_400_000;

for (const backend of testBackends()) {
  describe(`retention (kiln gc) on ${backend.name}`, () => {
    let store: Store;
    let files: ArtifactStore;
    let admin: Principal;
    let viewer: Principal;
    const tokens: Record<'admin' | 'viewer', string> = { admin: '', viewer: '' };
    const sha: Record<string, string> = {};
    const before90 = () => new Date(Date.now() - 90 * DAY);
    const removeContent = (sha256: string) => rm(files.pathOf(sha256), { force: true });
    const present = (name: string) => existsSync(files.pathOf(sha[name]!));

    before(async () => {
      store = await backend.open();
      files = new ArtifactStore(await mkdtemp(join(tmpdir(), `kiln-gc-${backend.name}-`)));
      for (const name of ['source', 'train', 'model', 'validation', 'card', 'oldReport', 'scratch', 'recent'])
        sha[name] = (await files.put(`${name} content`)).sha256;
      tokens.admin = (await store.access.createToken(SYSTEM, { name: 'gc-admin', role: 'admin' })).token;
      tokens.viewer = (await store.access.createToken(SYSTEM, { name: 'gc-viewer', role: 'viewer' })).token;
      admin = await store.access.authenticate(tokens.admin);
      viewer = await store.access.authenticate(tokens.viewer);

      // An old, finished run that registered a model, beside an old result nothing needs.
      await startRun(store, 'gc-old');
      await store.artifacts.recordArtifacts(SYSTEM, [{ sha256: sha.source!, kind: 'file', size: 14 }]);
      await runStep(
        store,
        'gc-old',
        'read',
        'data.readCsv',
        { source: sha.source! },
        {
          dataset: { sha256: sha.train!, kind: 'dataset' },
        },
      );
      await runStep(
        store,
        'gc-old',
        'train',
        'train.classifier',
        { train: sha.train! },
        {
          model: { sha256: sha.model!, kind: 'model' },
        },
      );
      await runStep(
        store,
        'gc-old',
        'evaluate',
        'evaluate.classifier',
        { model: sha.model! },
        {
          report: { sha256: sha.validation!, kind: 'report' },
        },
      );
      await runStep(
        store,
        'gc-old',
        'scratch',
        'evaluate.classifier',
        { model: sha.model! },
        {
          report: { sha256: sha.oldReport!, kind: 'report' },
        },
      );
      await runStep(
        store,
        'gc-old',
        'explore',
        'data.split',
        { dataset: sha.train! },
        { train: { sha256: sha.scratch!, kind: 'dataset' } },
        { cacheKey: 'gc-explore-key' },
      );
      const register = await runStep(
        store,
        'gc-old',
        'register',
        'registry.register',
        { model: sha.model!, report: sha.validation! },
        { card: { sha256: sha.card!, kind: 'report' } },
      );
      await store.registry.registerModelVersion(SYSTEM, {
        model: 'gc-credit',
        artifactSha256: sha.model!,
        runId: 'gc-old',
        stepExecutionId: register.id,
      });
      await store.runs.recordRunFinish(SYSTEM, { runId: 'gc-old', status: 'succeeded' });

      // A recent run: what it touched stays whatever its age.
      await startRun(store, 'gc-recent');
      await runStep(
        store,
        'gc-recent',
        'read',
        'data.readCsv',
        {},
        {
          dataset: { sha256: sha.recent!, kind: 'dataset' },
        },
      );

      await backend.exec(`
        update runs set started_at = now() - interval '200 days', finished_at = now() - interval '200 days' where id = 'gc-old';
        update artifacts set created_at = now() - interval '200 days';
        update artifacts set created_at = now() where sha256 = '${sha.recent}';
        insert into predictions (request_id, row_index, model, version, route, served, at, features, probabilities, label, latency_ms)
          values ('old', 0, 'gc-credit', 1, 'current', true, now() - interval '100 days', '{}', '[0.2, 0.8]', 'bad', 1),
                 ('new', 0, 'gc-credit', 1, 'current', true, now() - interval '1 day', '{}', '[0.2, 0.8]', 'bad', 1);
        insert into prediction_errors (request_id, model, version, route, at, error_type, message)
          values ('old-error', 'gc-credit', 1, 'current', now() - interval '100 days', 'RangeError', 'x');
        insert into prediction_labels (request_id, row_index, model, label, received_at)
          values ('old', 0, 'gc-credit', 'bad', now() - interval '100 days'),
                 ('new', 0, 'gc-credit', 'good', now());
      `);
    });
    after(() => backend.close());

    const count = async (table: string) =>
      Number(
        ((await store.db.execute(`select count(*) as n from ${table}`)) as unknown as { rows: Array<{ n: string }> })
          .rows[0]!.n,
      );

    if (backend.url)
      it('kiln gc --dry-run lists the old artifacts for an admin and refuses a viewer', async () => {
        const saved = { ...process.env };
        Object.assign(process.env, {
          DATABASE_URL: await backend.url!(),
          KILN_ARTIFACTS: files.root,
          KILN_HOME: files.root,
          KILN_TOKEN: tokens.admin,
        });
        try {
          const lines: string[] = [];
          assert.equal(await gc(['--older-than', '90d', '--dry-run'], (l) => lines.push(l)), 0);
          assert.match(lines.join('\n'), /Would delete 2 artifact file\(s\)/);
          assert.ok(
            lines.join('\n').includes(sha.scratch!) && lines.join('\n').includes('Dry run: nothing was deleted.'),
          );
          process.env.KILN_TOKEN = tokens.viewer;
          await assert.rejects(
            gc(['--older-than', '90d'], () => {}),
            AccessDeniedError,
          );
          assert.ok(present('scratch') && present('oldReport'));
        } finally {
          process.env = saved;
        }
      });

    it('refuses a viewer and audits the refusal', async () => {
      await assert.rejects(
        store.retention.collect(viewer, { before: before90(), dryRun: true }),
        (error: unknown) => error instanceof AccessDeniedError && /gc/.test(error.message),
      );
      const denied = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'gc-viewer' });
      assert.ok(denied.some((e) => (e.after as { action?: string }).action === 'gc'));
    });

    it('lists on a dry run what nothing needs, and deletes nothing', async () => {
      const listed = await store.retention.collect(admin, { before: before90(), dryRun: true });
      assert.deepEqual(listed.artifacts.map((a) => a.sha256).sort(), [sha.oldReport!, sha.scratch!].sort());
      assert.deepEqual([listed.predictions, listed.predictionErrors, listed.predictionLabels], [1, 1, 1]);
      for (const name of Object.keys(sha)) assert.ok(present(name), `${name} still on disk`);
      assert.equal(await count('predictions'), 2);
      assert.equal((await store.audit.listAudit(SYSTEM, { action: 'retention.gc' })).length, 0);
    });

    it("deletes old unreferenced content and prediction rows, keeping a registered version's model, its training data and a recent run's files", async () => {
      const deleted: Collected = await store.retention.collect(admin, { before: before90(), removeContent });
      assert.deepEqual(deleted.artifacts.map((a) => a.sha256).sort(), [sha.oldReport!, sha.scratch!].sort());
      assert.ok(!present('oldReport') && !present('scratch'));
      for (const name of ['source', 'train', 'model', 'validation', 'card', 'recent'])
        assert.ok(present(name), `${name} is kept`);
      assert.equal(await count('predictions'), 1);
      assert.equal(await count('prediction_errors'), 0);
      assert.equal(await count('prediction_labels'), 1);
      // The governance record stays: the row, marked, and its lineage.
      const [row] = await store.artifacts.getArtifacts(SYSTEM, [sha.scratch!]);
      assert.ok(row?.contentDeletedAt instanceof Date);
      const upstream = await store.steps.getStep(SYSTEM, { runId: 'gc-old', nodeId: 'explore' });
      assert.equal(upstream?.status, 'succeeded');
    });

    it('audits what it deleted, as the admin', async () => {
      const [event] = await store.audit.listAudit(SYSTEM, { action: 'retention.gc' });
      assert.equal(event?.actor, 'gc-admin');
      const after = event?.after as { artifacts: number; sha256: string[]; predictions: number };
      assert.equal(after.artifacts, 2);
      assert.deepEqual(after.sha256.sort(), [sha.oldReport!, sha.scratch!].sort());
      assert.equal(after.predictions, 1);
    });

    it('never answers a cache lookup with a result whose content it deleted', async () => {
      assert.equal(await store.steps.lookupCache(SYSTEM, 'gc-explore-key'), undefined);
    });

    it('clears the mark when the same content is stored again, and a second pass finds nothing', async () => {
      await store.artifacts.recordArtifacts(SYSTEM, [{ sha256: sha.scratch!, kind: 'dataset', size: 1 }]);
      const [row] = await store.artifacts.getArtifacts(SYSTEM, [sha.scratch!]);
      assert.equal(row?.contentDeletedAt, null);
      assert.ok(await store.steps.lookupCache(SYSTEM, 'gc-explore-key'));
      await backend.exec(`update artifacts set content_deleted_at = now() where sha256 = '${sha.scratch}'`);
      const again = await store.retention.collect(admin, { before: before90(), removeContent });
      assert.deepEqual([again.artifacts.length, again.predictions], [0, 0]);
    });
  });
}

describe('kiln gc --older-than', () => {
  it('reads days, hours and minutes and names a bad window', () => {
    assert.equal(parseWindow('90d'), 90 * DAY);
    assert.equal(parseWindow('12h'), 12 * 3_600_000);
    assert.throws(() => parseWindow('90 days'), /--older-than: expected a number and a unit .* got '90 days'/);
    assert.throws(() => parseWindow(undefined), /--older-than/);
  });
});
