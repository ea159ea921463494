import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { Row } from '../../activities/common/dataset/dataset';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { loadModel } from '../../activities/common/model/model';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { retrainWorkflowId } from '../../activities/monitor/monitor';
import { monitor } from '../../cli/commands/monitor';
import { createMonitor, planMonitor, runMonitorWindow } from '../../cli/monitors';
import type { MonitorPolicyInput } from '../../monitor/policy';
import { createModelServer, storeSource, type ModelServer } from '../../serving';
import { SYSTEM, type Principal, type Store } from '../../store';
import { engine } from '../fixtures/engine';
import train from '../fixtures/monitor-pipeline';
import { register } from '../serving/credit-model';
import { testBackends } from '../support/backends';
import { testContext } from '../support/step-context';
import type { MonitorWindowResult } from '../../workflows';

// Monitors on a real dev server, store and model server: held-out rows sent as they are do not
// drift; rows with numeric features multiplied drift feature by feature, alert once and start one
// retraining per drift episode, and a rollback policy moves the alias back. A model with no
// training lineage, or a window with too few rows, is reported and not acted on; bad policies are
// refused at creation, naming the field.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
let dir: string;
let holdout: Record<string, unknown>[];
let truth: string[];
const PIPELINE = 'test/fixtures/monitor-pipeline.ts';
// Multiplied in the drifting windows: 4 of the 20 features.
const SHIFTED = { credit_amount: 3, duration: 2, age: 1.5, installment_commitment: 2 } as const;

/** A local webhook receiver: every POST body it got. */
async function webhookServer(): Promise<{ server: Server; url: string; bodies: Array<Record<string, unknown>> }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

before(async () => {
  ctx = await testContext();
  dir = await mkdtemp(join(tmpdir(), 'kiln-monitor-test-'));
  // The pipeline's own split (seed 7): its test rows are rows the model never trained on.
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const rows = (await loadDataset(ctx.artifacts, split.test)).rows;
  holdout = rows.map(({ class: _label, ...rest }: Row) => rest);
  truth = rows.map((r) => String(r.class));
});
after(async () => {
  await ctx.dispose();
  await rm(dir, { recursive: true, force: true });
});

for (const backend of testBackends()) {
  describe(`monitors on ${backend.name}`, () => {
    let store: Store;
    let kiln: Awaited<ReturnType<typeof engine>>;
    let server: ModelServer;
    let predict: string;
    let hook: Awaited<ReturnType<typeof webhookServer>>;
    let operator: Principal;
    let versions: number[];
    const windows: Record<'clean' | 'drift1' | 'drift2' | 'few', { start: Date; end: Date }> = {} as never;

    // Both backends' stores share one Temporal namespace, where schedule ids must differ.
    const named = (name: string) => `${backend.name}-${name}`;
    const policyFile = async (name: string, policy: unknown, ext = 'yaml') => {
      const file = join(dir, `${backend.name}-${name}.${ext}`);
      await writeFile(file, ext === 'json' ? JSON.stringify(policy) : stringify(policy));
      return file;
    };
    const create = async (
      name: string,
      policy: MonitorPolicyInput | Record<string, unknown>,
      target = 'credit-risk@production',
      actor = operator,
    ) => {
      const request = { target, name: named(name), policyFile: await policyFile(name, policy), paused: true };
      return createMonitor(store, kiln.client, kiln.taskQueue, actor, await planMonitor(store, actor, request));
    };
    const run = (name: string, window: { start: Date; end: Date }) =>
      runMonitorWindow(store, kiln.client, kiln.taskQueue, operator, named(name), window);

    /**
     * Sends rows in batches of 20 through the real server, and their true labels as feedback when
     * given; returns the window that holds exactly them.
     */
    async function send(rows: Record<string, unknown>[], labels?: string[]): Promise<{ start: Date; end: Date }> {
      const start = new Date();
      for (let i = 0; i < rows.length; i += 20) {
        const response = await fetch(predict, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rows: rows.slice(i, i + 20) }),
        });
        const body = (await response.json()) as { requestId: string };
        assert.equal(response.status, 200, JSON.stringify(body));
        if (!labels || i >= labels.length) continue;
        await server.log!.flush();
        const feedback = await fetch(predict.replace(/predict$/, 'feedback'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ requestId: body.requestId, labels: labels.slice(i, i + 20) }),
        });
        assert.ok(feedback.ok, await feedback.text());
      }
      await server.log!.flush();
      const end = new Date(Date.now() + 1);
      await new Promise((r) => setTimeout(r, 5));
      return { start, end };
    }
    const shifted = (rows: Record<string, unknown>[]) =>
      rows.map((r) => ({
        ...r,
        ...Object.fromEntries(Object.entries(SHIFTED).map(([k, f]) => [k, Math.round(Number(r[k]) * f)])),
      }));

    before(async () => {
      store = await backend.open();
      kiln = await engine(builtinSteps, { store });
      versions = [];
      for (const seed of [7, 8]) {
        const output = (await (await kiln.start(train, { seed })).result()).output as { version: number };
        versions.push(output.version);
        await store.registry.promote(SYSTEM, 'credit-risk', output.version, 'production');
      }
      ({ principal: operator } = await store.access.createToken(SYSTEM, { name: 'olga', role: 'operator' }));
      server = createModelServer({
        source: storeSource(store, new ArtifactStore(kiln.artifactsDir), SYSTEM),
        models: [{ name: 'credit-risk', alias: 'production' }],
        pollMs: 50,
        log: { flushMs: 20, hashKey: 'k' },
      });
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      await server.load();
      predict = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}/v1/models/credit-risk/predict`;
      hook = await webhookServer();
    });
    after(async () => {
      await server?.close();
      hook?.server.close();
      await kiln?.stop();
      await backend.close();
    });

    const watchPolicy = () => ({
      every: '10m',
      minRows: 100,
      driftShare: 0.15,
      actions: {
        alert: { webhook: hook.url },
        retrain: { pipeline: PIPELINE, params: { epochs: 5, seed: 9 } },
      },
      cooldown: '1h',
    });

    it('creates a paused schedule that skips overlapping windows, and takes no action on a window without drift', async () => {
      await create('watch', watchPolicy());
      const schedule = await kiln.client.schedule.getHandle(`monitor-${named('watch')}`).describe();
      assert.equal(schedule.policies.overlap, 'SKIP');
      assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.workflowType, 'monitorWindow');
      // Labels come back for the first 100 rows only.
      windows.clean = await send(holdout, truth.slice(0, 100));
      const { report, actions } = await run('watch', windows.clean);
      assert.equal(report.status, 'measured');
      assert.equal(report.version, versions[1]);
      assert.equal(report.rows, holdout.length);
      assert.equal(report.drifted, false, JSON.stringify(report.features));
      assert.ok(report.reference && report.reference.rows === 800, 'the reference is the training split, from lineage');
      assert.ok(report.latency.p50Ms !== null && report.latency.p99Ms! >= report.latency.p50Ms);
      assert.equal(report.prediction?.status, 'measured');
      assert.equal(report.labelled, 100);
      assert.ok(report.accuracy! > 0.6 && report.rocAuc! > 0.6, `accuracy ${report.accuracy}, AUC ${report.rocAuc}`);
      assert.deepEqual(actions, []);
      assert.equal(hook.bodies.length, 0);
    });

    it('reports shifted features as drifted with their statistics, alerts once and starts one retraining per episode', async () => {
      windows.drift1 = await send(shifted(holdout));
      const first = await run('watch', windows.drift1);
      assert.equal(first.report.drifted, true);
      const amount = first.report.features.credit_amount!;
      assert.ok(amount.status === 'measured' && amount.drifted);
      assert.equal(amount.test, 'ks');
      assert.ok(amount.pValue! < 0.05 && amount.statistic > 0.2, JSON.stringify(amount));
      assert.ok(first.report.share! >= 0.15);
      assert.equal(first.report.episode, first.report.id);
      assert.deepEqual(
        first.actions.map((a) => [a.kind, a.outcome]),
        [
          ['alert', 'done'],
          ['retrain', 'done'],
        ],
      );
      assert.equal(hook.bodies.length, 1);
      assert.equal((hook.bodies[0]!.report as { id: string }).id, first.report.id);

      windows.drift2 = await send(shifted(holdout));
      const second = await run('watch', windows.drift2);
      assert.equal(second.report.drifted, true);
      assert.equal(second.report.episode, first.report.episode, 'the second drifting window is the same episode');
      assert.deepEqual(
        second.actions.map((a) => [a.kind, a.outcome]),
        [
          ['alert', 'skipped'],
          ['retrain', 'skipped'],
        ],
      );
      assert.equal(hook.bodies.length, 1, 'one alert per episode');
      const retrains = await store.audit.listAudit(SYSTEM, { action: 'monitor.retrain' });
      assert.equal(retrains.length, 1, 'one retraining per episode');
      const retraining = kiln.client.workflow.getHandle(retrainWorkflowId(named('watch'), first.report.episode!));
      const result = (await retraining.result()) as { output: { name: string; version: number } };
      assert.equal(result.output.name, 'credit-risk');
      const reports = await store.monitoring.listReports(operator, named('watch'));
      assert.deepEqual(
        reports.map((r) => [r.drifted, r.episode === first.report.episode]),
        [
          [false, false],
          [true, true],
          [true, true],
        ],
      );
    });

    it('ends the episode on a window without drift, and acts not on a new episode within the cooldown', async () => {
      const calm = await run('watch', await send(holdout));
      assert.equal(calm.report.drifted, false);
      const again = await run('watch', await send(shifted(holdout)));
      assert.equal(again.report.drifted, true);
      assert.equal(again.report.episode, again.report.id, 'a new episode');
      assert.deepEqual(
        again.actions.map((a) => [a.kind, a.outcome]),
        [
          ['alert', 'skipped'],
          ['retrain', 'skipped'],
        ],
      );
      assert.match(again.actions[0]!.detail, /cooldown \(1h\)/);
      assert.equal(hook.bodies.length, 1);
    });

    it('measures, when its schedule fires, the window of every before the time the run was due', async () => {
      const schedule = kiln.client.schedule.getHandle(`monitor-${named('watch')}`);
      await schedule.trigger();
      let started: string | undefined;
      for (let i = 0; i < 100 && !started; i++, await new Promise((r) => setTimeout(r, 100)))
        started = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      assert.ok(started, 'the schedule started a run');
      const { report } = (await kiln.client.workflow.getHandle(started).result()) as MonitorWindowResult;
      assert.equal(Date.parse(report.window.end) - Date.parse(report.window.start), 10 * 60_000);
      assert.equal(report.status, 'measured');
      // The due time has whole seconds: rows logged later in that second belong to the next window.
      const logged = await store.serving.listPredictions(SYSTEM, {
        model: 'credit-risk',
        since: new Date(report.window.start),
        until: new Date(report.window.end),
        limit: 100_000,
      });
      assert.ok(logged.length >= holdout.length);
      assert.equal(report.rows, logged.length);
    });

    it('reports a window with too few rows as insufficientData and acts not', async () => {
      windows.few = await send(shifted(holdout.slice(0, 20)));
      const { report, actions } = await run('watch', windows.few);
      assert.equal(report.status, 'insufficientData');
      assert.equal(report.rows, 20);
      assert.match(report.reason!, /20 logged row\(s\).*minRows 100/);
      assert.deepEqual(actions, []);
      assert.equal(hook.bodies.length, 1);
    });

    it('rolls the alias back to the previous version and clears its traffic split, audited', async () => {
      await create('fallback', { minRows: 100, driftShare: 0.15, actions: { rollback: true } });
      await store.serving.setTrafficSplit(SYSTEM, {
        model: 'credit-risk',
        alias: 'production',
        mode: 'canary',
        candidate: versions[0]!,
        percent: 0,
      });
      const { report, actions } = await run('fallback', windows.drift2);
      assert.equal(report.drifted, true);
      assert.deepEqual(
        actions.map((a) => [a.kind, a.outcome]),
        [['rollback', 'done']],
      );
      assert.deepEqual(await store.serving.servedVersions(SYSTEM, 'credit-risk', 'production'), {
        current: versions[0],
        split: null,
      });
      const [audited] = await store.audit.listAudit(SYSTEM, { action: 'monitor.rollback' });
      assert.equal(audited?.subject, `monitor:${named('fallback')}`);
      const [moved] = await store.audit.listAudit(SYSTEM, { action: 'model.alias.rollback' });
      assert.deepEqual(moved?.after, { version: versions[0] });
    });

    // The CLI opens the store by URL, which only the PostgreSQL backend has: registered there alone.
    const viaCli = backend.url ? it : () => undefined;
    viaCli('does the same through kiln monitor create, run, report, list and delete', async () => {
      const saved = { ...process.env };
      try {
        Object.assign(process.env, {
          DATABASE_URL: await backend.url!(),
          TEMPORAL_ADDRESS: kiln.address,
          KILN_TASK_QUEUE: kiln.taskQueue,
        });
        const { token } = await store.access.createToken(SYSTEM, { name: 'otto', role: 'operator' });
        const out: string[] = [];
        const kilnMonitor = (...args: string[]) => monitor([...args, '--token', token], (line) => out.push(line));
        const name = named('cli');
        const file = await policyFile('cli', { minRows: 50, actions: {} });
        assert.equal(
          await kilnMonitor('create', 'credit-risk', '--policy', file, '--every', '5m', '--name', name, '--paused'),
          0,
        );
        assert.match(
          out.at(-1)!,
          new RegExp(`Created monitor ${name} of credit-risk@production: every 5m \\(paused\\)`),
        );
        const window = await send(holdout.slice(0, 60));
        const range = ['--from', window.start.toISOString(), '--to', window.end.toISOString()];
        assert.equal(await kilnMonitor('run', name, ...range), 0);
        assert.match(
          out.at(-1)!,
          /60 rows\n {2}dataset (DRIFTED|not drifted): share [\d.]+ \(threshold 0\.5\)\n {2}(ok|DRIFT) /,
        );
        assert.match(out.at(-1)!, /credit_amount +ks +statistic [\d.]+ +p [\d.e-]+ +threshold 0\.05/);
        assert.equal(await kilnMonitor('report', name, '--last', '1h', '--json'), 0);
        const reports = JSON.parse(out.at(-1)!) as Array<{ rows: number; status: string }>;
        assert.deepEqual(
          reports.map((r) => [r.rows, r.status]),
          [[60, 'measured']],
        );
        assert.equal(await kilnMonitor('list'), 0);
        assert.match(out.at(-1)!, new RegExp(`${name}  credit-risk@production  every 5m`));
        assert.equal(await kilnMonitor('delete', name), 0);
        await assert.rejects(kiln.client.schedule.getHandle(`monitor-${name}`).describe(), /not found/i);
        const audited = await store.audit.listAudit(SYSTEM, { subject: `monitor:${name}` });
        assert.deepEqual(
          audited.map((e) => [e.action, e.actor]),
          [
            ['monitor.create', 'otto'],
            ['monitor.run', 'otto'],
            ['monitor.delete', 'otto'],
          ],
        );
      } finally {
        process.env = saved;
      }
    });

    it('reports a model with no training lineage and acts not', async () => {
      const version = await store.registry.getModelVersion(SYSTEM, 'credit-risk', versions[0]!);
      const artifacts = new ArtifactStore(kiln.artifactsDir);
      const spec = await loadModel(artifacts, `artifact:sha256:${version.artifactSha256}`);
      // The same model under another seed field: an artifact no step produced.
      const stored = await artifacts.putJson({ ...spec, seed: 99 });
      const ref = {
        kind: 'model' as const,
        ...stored,
        task: spec.task,
        architecture: spec.architecture,
        label: spec.label,
        classes: spec.classes,
        backend: spec.backend,
      };
      await register({ ...ctx, artifacts }, store, ref, 'credit-bare', 'production');
      await create('bare', { minRows: 1, actions: { rollback: true, alert: { webhook: hook.url } } }, 'credit-bare');
      const { report, actions } = await run('bare', windows.clean);
      assert.equal(report.status, 'noLineage');
      assert.match(report.reason!, /credit-bare@1 has no training lineage/);
      assert.deepEqual(actions, []);
      assert.equal(hook.bodies.length, 1);
    });

    it('refuses a policy with a bad field, naming it', async () => {
      await assert.rejects(create('bad', { ...watchPolicy(), minRows: -5 }), /minRows: /);
      await assert.rejects(create('bad', { ...watchPolicy(), cooldwn: '1h' }), /cooldwn/);
      await assert.rejects(
        create('bad', { ...watchPolicy(), features: { age: { test: 'tt' } } }),
        /features\.age\.test/,
      );
      const json = await policyFile('bad-json', { every: 'soon', actions: {} }, 'json');
      await assert.rejects(
        planMonitor(store, operator, { target: 'credit-risk', name: named('bad'), policyFile: json }),
        /every: must be a duration/,
      );
      assert.ok(!(await store.monitoring.listMonitors(operator)).some((m) => m.name === named('bad')));
    });

    it('refuses to create a monitor for a viewer', async () => {
      const { principal: viewer } = await store.access.createToken(SYSTEM, { name: 'vera', role: 'viewer' });
      await assert.rejects(create('peek', watchPolicy(), 'credit-risk@production', viewer), {
        name: 'AccessDeniedError',
      });
      const [denied] = await store.audit.listAudit(SYSTEM, { action: 'access.denied', actor: 'vera' });
      assert.equal(denied?.subject, `monitor:${named('peek')}`);
    });

    it('refuses a webhook that is not http(s)', async () => {
      await assert.rejects(
        create('files', { ...watchPolicy(), actions: { alert: { webhook: 'file:///etc/passwd' } } }),
        /actions\.alert\.webhook: 'file:' URLs are refused/,
      );
      assert.ok(!(await store.monitoring.listMonitors(operator)).some((m) => m.name === named('files')));
    });
  });
}
