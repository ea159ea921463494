import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { ArtifactStore } from '../../activities/artifacts/store';
import { compile, pipeline } from '../../dsl';
import { SYSTEM } from '../../store';
import { runs } from '../../store/schema/runs';
import { runPipeline, statusQuery } from '../../workflows';
import { createConsoleServer, type ConsoleServer } from '../../console/server';
import { prCurve } from '../../console/server/model-reports';
import type {
  LineageResponse,
  ModelDetail,
  ModelListItem,
  ModelVersionDetail,
  PendingApproval,
  PipelineInfo,
  RunDetail,
  RunsPage,
  SessionResponse,
} from '../../console/api';
import { testBackends } from '../support/backends';
import { recordingEngine } from '../fixtures/recording-engine';
import { add, list, noop, slow, testSteps } from '../fixtures/steps';

// The console's JSON API over real HTTP, a real Temporal dev server, a worker and the store: who
// may do what (refusals audited), sessions and CSRF, bad and hostile input, and paging at 10,000 runs.

const gated = pipeline({ name: 'console-gated' }, (p) => {
  const items = p.step(list, { n: 3 });
  const sums = p.map(items.items, (item) => p.step(add, { a: item.x, b: 1 }).sum, { id: 'trials' });
  const ok = p.approval('release', { show: { sums }, timeout: '5m' });
  return p.step(noop, { after: ok.by });
});

const sleepy = pipeline({ name: 'console-sleepy' }, (p) => p.step(slow, { key: randomUUID(), ms: 120_000 }));

interface Caller {
  cookie: string;
  csrf: string;
}

for (const backend of testBackends())
  describe(`the console API on ${backend.name}`, () => {
    const tokens = {} as Record<'ada' | 'olga' | 'alice' | 'victor', string>;
    const env = recordingEngine(backend, testSteps, async (store) => {
      for (const [name, role] of [
        ['ada', 'admin'],
        ['olga', 'operator'],
        ['alice', 'approver'],
        ['victor', 'viewer'],
      ] as const)
        tokens[name] = (await store.access.createToken(SYSTEM, { name, role })).token;
    });
    let server: ConsoleServer;
    let base: string;
    const as = {} as Record<'olga' | 'alice' | 'victor', Caller>;

    const call = async (
      who: Caller | undefined,
      method: string,
      path: string,
      body?: unknown,
      options: { csrf?: string | false; raw?: string } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (who) headers.cookie = who.cookie;
      const csrf = options.csrf === undefined ? who?.csrf : options.csrf;
      if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
      if (body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(options.raw !== undefined
          ? { body: options.raw }
          : body !== undefined
            ? { body: JSON.stringify(body) }
            : {}),
      });
      const text = await response.text();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the body as the type of the route it called
      return { status: response.status, body: text ? (JSON.parse(text) as any) : undefined, response };
    };

    const signIn = async (token: string): Promise<Caller & { session: SessionResponse; setCookie: string[] }> => {
      const response = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const setCookie = response.headers.getSetCookie();
      const session = (await response.json()) as SessionResponse;
      return { cookie: setCookie.map((c) => c.split(';')[0]).join('; '), csrf: session.csrfToken, session, setCookie };
    };

    const refusals = async (actor: string, action: string) =>
      (await env.store.audit.listAudit(SYSTEM, { actor, action: 'access.denied' })).filter(
        (e) => (e.after as { action?: string }).action === action,
      ).length;

    const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> => {
      const until = Date.now() + ms;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    before(async () => {
      server = await createConsoleServer({
        store: env.store,
        client: env.kiln.client,
        taskQueue: env.kiln.taskQueue,
        temporal: { uiUrl: 'http://localhost:8233', namespace: 'default' },
        artifactsDir: env.kiln.artifactsDir,
        pipelines: ['test/fixtures/scheduled-pipeline.ts'],
        stepModules: ['test/fixtures/steps-module.ts'],
        pollMs: 100,
      });
      base = await server.listen();
      for (const name of ['olga', 'alice', 'victor'] as const) as[name] = await signIn(tokens[name]);
    });
    after(async () => {
      await server?.close();
    });

    it('binds to 127.0.0.1 by default', () => {
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    });

    it('signs in with a token into an httpOnly, SameSite=Strict session cookie, and refuses a bad token (audited)', async () => {
      const { session, setCookie } = await signIn(tokens.alice);
      assert.deepEqual(session.principal, { name: 'alice', roles: ['viewer', 'operator', 'approver'] });
      const cookie = setCookie.find((c) => c.startsWith('kiln_session='));
      assert.ok(cookie, setCookie.join('\n'));
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.doesNotMatch(cookie, new RegExp(tokens.alice), 'the token itself is never in the cookie');

      const before = (await env.store.audit.listAudit(SYSTEM, { action: 'auth.refused' })).length;
      const bad = await call(undefined, 'POST', '/api/session', { token: 'kiln_not-a-token' });
      assert.equal(bad.status, 401);
      assert.match(bad.body.error, /not valid/);
      assert.equal((await env.store.audit.listAudit(SYSTEM, { action: 'auth.refused' })).length, before + 1);
      const missing = await call(undefined, 'POST', '/api/session', {});
      assert.equal(missing.status, 400);
      assert.match(missing.body.error, /token/);
    });

    it('refuses every API route without a session, and a forged session cookie', async () => {
      for (const path of ['/api/runs', '/api/models', '/api/audit', '/api/session']) {
        const { status, body } = await call(undefined, 'GET', path);
        assert.equal(status, 401, path);
        assert.match(body.error, /not signed in/);
      }
      const forged = await call({ cookie: 'kiln_session=forged', csrf: 'x' }, 'GET', '/api/runs');
      assert.equal(forged.status, 401);
    });

    it('needs the session’s own CSRF token on writes', async () => {
      const olga = await signIn(tokens.olga);
      const none = await call(
        olga,
        'POST',
        '/api/runs',
        { pipeline: 'scheduled-sum', params: { a: 1 } },
        { csrf: false },
      );
      assert.equal(none.status, 403);
      assert.match(none.body.error, /x-csrf-token/);
      const other = await call(
        olga,
        'POST',
        '/api/runs',
        { pipeline: 'scheduled-sum', params: { a: 1 } },
        {
          csrf: as.alice.csrf,
        },
      );
      assert.equal(other.status, 403, 'a token made for another session is refused');
      const again = await call(olga, 'GET', '/api/session');
      assert.equal(again.status, 200);
      assert.equal(again.body.principal.name, 'olga');

      const out = await call(olga, 'DELETE', '/api/session', undefined, { csrf: false });
      assert.equal(out.status, 403, 'signing out is a write too');
      assert.equal((await call(olga, 'DELETE', '/api/session')).status, 200);
      assert.equal((await call(olga, 'GET', '/api/session')).status, 401, 'the session is gone on the server');
    });

    it('lists the pipelines it can start with their parameters', async () => {
      const { status, body } = await call(as.victor, 'GET', '/api/pipelines');
      assert.equal(status, 200);
      const pipelines = body as PipelineInfo[];
      assert.deepEqual(
        pipelines.map((p) => [p.name, p.file, p.params.map((q) => [q.name, q.required])]),
        [['scheduled-sum', 'test/fixtures/scheduled-pipeline.ts', [['a', true]]]],
      );
    });

    it('starts a run for an operator (audited as them), refuses a viewer (audited), and checks the body', async () => {
      const refused = await refusals('victor', 'run.start');
      const viewer = await call(as.victor, 'POST', '/api/runs', { pipeline: 'scheduled-sum', params: { a: 1 } });
      assert.equal(viewer.status, 403);
      assert.match(viewer.body.error, /victor.*operator/);
      assert.equal(await refusals('victor', 'run.start'), refused + 1);

      const started = await call(as.olga, 'POST', '/api/runs', { pipeline: 'scheduled-sum', params: { a: 4 } });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const { runId } = started.body as { runId: string };
      const detail = await waitFor('the run to succeed', async () => {
        const d = await call(as.victor, 'GET', `/api/runs/${encodeURIComponent(runId)}`);
        return d.status === 200 && (d.body as RunDetail).run.state === 'succeeded' ? (d.body as RunDetail) : undefined;
      });
      assert.equal(detail.run.startedBy, 'olga');
      assert.deepEqual(detail.run.params, { a: 4 });
      assert.deepEqual(
        detail.graph.nodes.map((n) => [n.id, n.kind, n.step]),
        [['add', 'step', 'test.add']],
      );
      assert.equal(detail.nodes.add!.state, 'succeeded');
      assert.deepEqual(detail.nodes.add!.inputs, { a: 4, b: 3 });
      assert.deepEqual(detail.nodes.add!.outputs, { sum: 7 });
      assert.match(detail.temporalUrl, new RegExp(`/namespaces/default/workflows/${runId}`));
      const [audit] = await env.store.audit.listAudit(SYSTEM, { subject: `run:${runId}`, action: 'run.start' });
      assert.equal(audit?.actor, 'olga');

      const page = (await call(as.victor, 'GET', '/api/runs?pipeline=scheduled-sum')).body as RunsPage;
      assert.equal(page.runs.find((r) => r.runId === runId)?.startedBy, 'olga');

      for (const [body, pattern, status] of [
        [{ pipeline: 'nope' }, /pipeline 'nope' is not one the console can start; it knows scheduled-sum/, 404],
        [{ pipeline: 'scheduled-sum', params: { a: 'x' } }, /body.params: invalid parameters/, 400],
        [{ pipeline: 'scheduled-sum', params: { zz: 1 } }, /unknown parameter 'zz'/, 400],
        [{ params: {} }, /body must have required property 'pipeline'/, 400],
        [{ pipeline: 'scheduled-sum', extra: 1 }, /must NOT have additional properties/, 400],
      ] as const) {
        const bad = await call(as.olga, 'POST', '/api/runs', body);
        assert.equal(bad.status, status, JSON.stringify(bad.body));
        assert.match(bad.body.error, pattern);
      }
      const malformed = await call(as.olga, 'POST', '/api/runs', undefined, { raw: '{"pipeline": ' });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body.error, /POST \/api\/runs.*JSON/i);
    });

    it('shows a gated run live (map collapsed with n of m), lists its gate, refuses a viewer’s approval (audited) and takes the approver’s', async () => {
      const handle = await env.kiln.start(gated);
      const runId = handle.workflowId;
      await waitFor('the gate to wait', async () =>
        (await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status === 'waiting'
          ? true
          : undefined,
      );
      const detail = (await call(as.victor, 'GET', `/api/runs/${runId}`)).body as RunDetail;
      assert.deepEqual(
        detail.graph.nodes.map((n) => [n.id, n.kind]),
        [
          ['list', 'step'],
          ['trials', 'map'],
          ['release', 'approval'],
          ['noop', 'step'],
        ],
      );
      assert.deepEqual(detail.graph.edges.map((e) => `${e.from}>${e.to}`).sort(), [
        'list>trials',
        'release>noop',
        'trials>release',
      ]);
      assert.deepEqual(detail.nodes.trials!.mapped, { done: 3, total: 3 });
      assert.equal(detail.nodes.release!.state, 'waiting');
      assert.deepEqual(detail.nodes.release!.gate?.show, { sums: [1, 2, 3] });

      // The event stream: snapshots until the run closes. Its first one is read before the approval.
      const stream = await fetch(`${base}/api/runs/${runId}/events`, { headers: { cookie: as.victor.cookie } });
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      while (!/event: snapshot\n[^]*?\n\n/.test(text)) {
        const { value, done } = await reader.read();
        assert.ok(!done, `the stream closed before its first snapshot: ${text.slice(0, 500)}`);
        text += value;
      }

      const inbox = (await call(as.victor, 'GET', '/api/approvals')).body as PendingApproval[];
      const pending = inbox.find((a) => a.runId === runId);
      assert.deepEqual(pending && { gate: pending.gate, pipeline: pending.pipeline, shown: pending.shown }, {
        gate: 'release',
        pipeline: 'console-gated',
        shown: { sums: [1, 2, 3] },
      });
      assert.ok(pending?.waitingSince);

      const refused = await refusals('victor', 'gate.approve');
      const viewer = await call(as.victor, 'POST', `/api/approvals/${runId}/release`, { decision: 'approve' });
      assert.equal(viewer.status, 403);
      assert.equal(await refusals('victor', 'gate.approve'), refused + 1);
      assert.equal((await handle.query(statusQuery)).nodes.find((n) => n.id === 'release')?.status, 'waiting');

      const badDecision = await call(as.alice, 'POST', `/api/approvals/${runId}/release`, { decision: 'maybe' });
      assert.equal(badDecision.status, 400);
      assert.match(badDecision.body.error, /decision must be equal to one of the allowed values/);
      const noGate = await call(as.alice, 'POST', `/api/approvals/${runId}/nope`, { decision: 'approve' });
      assert.equal(noGate.status, 409);
      assert.match(noGate.body.error, /no gate 'nope' waiting.*waiting: release/);

      const ok = await call(as.alice, 'POST', `/api/approvals/${runId}/release`, {
        decision: 'approve',
        comment: 'sums hold',
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(ok.body, { runId, gate: 'release', approved: true, by: 'alice' });
      const [recorded] = await env.store.decisions.listDecisions(SYSTEM, runId);
      assert.equal(recorded?.decidedBy, 'alice');
      assert.equal(recorded?.reason, 'sums hold');
      await handle.result();

      for (let next = await reader.read(); !next.done; next = await reader.read()) text += next.value;
      const snapshots = text
        .split('\n\n')
        .filter((block) => block.startsWith('event: snapshot'))
        .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as RunDetail);
      assert.ok(snapshots.length >= 2, text.slice(0, 500));
      assert.equal(snapshots[0]!.nodes.release!.state, 'waiting');
      assert.equal(snapshots.at(-1)!.run.state, 'succeeded');
      assert.equal(snapshots.at(-1)!.nodes.noop!.state, 'succeeded');
    });

    it('cancels a running run for an operator, refuses a viewer (audited), and says why it cannot cancel twice', async () => {
      const handle = await env.kiln.start(sleepy);
      const runId = handle.workflowId;
      await waitFor('the run to be recorded', async () =>
        (await env.store.runs.getRun(SYSTEM, runId)) ? true : undefined,
      );
      const refused = await refusals('victor', 'run.cancel');
      const viewer = await call(as.victor, 'POST', `/api/runs/${runId}/cancel`);
      assert.equal(viewer.status, 403);
      assert.equal(await refusals('victor', 'run.cancel'), refused + 1);

      const ok = await call(as.olga, 'POST', `/api/runs/${runId}/cancel`);
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await assert.rejects(handle.result());
      const [audit] = await env.store.audit.listAudit(SYSTEM, { subject: `run:${runId}`, action: 'run.cancel' });
      assert.equal(audit?.actor, 'olga');
      const again = await call(as.olga, 'POST', `/api/runs/${runId}/cancel`);
      assert.equal(again.status, 409);
      assert.match(again.body.error, /not running/);
      const unknown = await call(as.olga, 'POST', '/api/runs/no-such-run/cancel');
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error, /no-such-run/);
    });

    it("shows a run Temporal has and the store has not recorded yet, from the workflow's input", async () => {
      const plan = compile(pipeline({ name: 'console-unrecorded' }, (p) => p.step(add, { a: 1, b: 2 })));
      // No worker polls this queue: the run is in Temporal only.
      const handle = await env.kiln.client.workflow.start(runPipeline, {
        taskQueue: `nobody-${randomUUID()}`,
        workflowId: `console-unrecorded-${randomUUID()}`,
        args: [{ plan, params: { x: 1 } }],
      });
      try {
        const { status, body } = await call(as.victor, 'GET', `/api/runs/${handle.workflowId}`);
        assert.equal(status, 200, JSON.stringify(body));
        const detail = body as RunDetail;
        assert.equal(detail.run.state, 'running');
        assert.equal(detail.run.pipeline, 'console-unrecorded');
        assert.deepEqual(detail.run.params, { x: 1 });
        assert.deepEqual(
          detail.graph.nodes.map((n) => n.id),
          ['add'],
        );
        assert.equal(detail.nodes.add!.state, 'pending');
      } finally {
        await handle.terminate();
      }
    });

    it('answers an unknown run, a hostile run id or lineage target, and an oversized body with a 4xx that names them', async () => {
      const unknown = await call(as.victor, 'GET', '/api/runs/no-such-run');
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error, /run 'no-such-run' is not in the store/);
      const before = await env.store.db.select({ n: sql<number>`count(*)::int` }).from(runs);
      for (const id of ['../../etc/passwd', "x'; drop table runs; --", '%00', 'a/b?c=d']) {
        const hostile = await call(as.victor, 'GET', `/api/runs/${encodeURIComponent(id)}`);
        assert.equal(hostile.status, 404, id);
        assert.ok(hostile.body.error.includes(id), hostile.body.error);
      }
      const tooLong = await call(as.victor, 'GET', `/api/runs/${'x'.repeat(500)}`);
      assert.equal(tooLong.status, 400);
      for (const target of ['../../../etc/passwd', "m'; drop table runs; --@1", 'run:../../x', 'nope@1']) {
        const hostile = await call(as.victor, 'GET', `/api/lineage?target=${encodeURIComponent(target)}`);
        assert.ok(hostile.status >= 400 && hostile.status < 500, `${target}: ${hostile.status} ${hostile.body?.error}`);
        assert.ok(hostile.body.error.length > 0);
      }
      assert.deepEqual(await env.store.db.select({ n: sql<number>`count(*)::int` }).from(runs), before);

      const big = await call(as.olga, 'POST', '/api/runs', {
        pipeline: 'scheduled-sum',
        params: { a: 1, pad: 'x'.repeat(100_000) },
      });
      assert.equal(big.status, 413);
      assert.match(big.body.error, /over the limit/);
      const badQuery = await call(as.victor, 'GET', '/api/runs?limit=0');
      assert.equal(badQuery.status, 400);
      assert.match(badQuery.body.error, /'limit'/);
      const badState = await call(as.victor, 'GET', '/api/runs?state=exploded');
      assert.equal(badState.status, 400);
      assert.match(badState.body.error, /'state' must be one of running/);
      const badCursor = await call(as.victor, 'GET', '/api/runs?before=garbage');
      assert.equal(badCursor.status, 400);
      assert.match(badCursor.body.error, /'before'/);
      for (const path of [
        '/api/runs?pipeline=a&pipeline=b',
        '/api/audit?actor=a&actor=b',
        '/api/lineage?target=a&target=b',
      ]) {
        const repeated = await call(as.victor, 'GET', path);
        assert.equal(repeated.status, 400, path);
        assert.match(repeated.body.error, /querystring\/(pipeline|actor|target) must be string/, path);
      }
      const noRoute = await call(as.victor, 'GET', '/api/nothing-here');
      assert.equal(noRoute.status, 404);
      assert.match(noRoute.body.error, /no such API route/);
    });

    it('shows models, versions with ROC, PR and calibration curves, confusion matrix and fairness; promotes for an approver only', async () => {
      const model = `console-model-${backend.name}`;
      const runId = `console-eval-${randomUUID()}`;
      const plan = compile(pipeline({ name: 'console-eval' }, (p) => p.step(noop, {})));
      await env.store.runs.recordRunStart(SYSTEM, { runId, workflowId: runId, plan });
      const artifacts = new ArtifactStore(env.kiln.artifactsDir);
      const modelFile = await artifacts.put(`model ${runId}`);
      const evaluation = await artifacts.putJson({
        kind: 'kiln.evaluation',
        version: 2,
        model: { sha256: modelFile.sha256 },
        confusionMatrix: {
          classes: ['good', 'bad'],
          counts: [
            [6, 2],
            [1, 3],
          ],
        },
        roc: [
          { class: 'bad', auc: 0.8, fpr: [0, 0, 0.25, 1], tpr: [0, 0.5, 0.75, 1], thresholds: [null, 0.9, 0.5, 0.1] },
        ],
        calibration: [
          {
            class: 'bad',
            ece: 0.1,
            mce: 0.2,
            bins: [
              { lower: 0, upper: 0.5, count: 8, meanPredicted: 0.2, fractionPositive: 0.125 },
              { lower: 0.5, upper: 1, count: 0, meanPredicted: null, fractionPositive: null },
            ],
          },
        ],
      });
      const fairness = await artifacts.putJson({
        kind: 'kiln.fairness',
        version: 1,
        model: { sha256: modelFile.sha256 },
        groups: [
          { group: 'a', count: 6, selectionRate: 0.5, truePositiveRate: 0.8, falsePositiveRate: 0.1 },
          { group: 'b', count: 6, selectionRate: 0.3, truePositiveRate: 0.6, falsePositiveRate: 0.2 },
        ],
        disparateImpact: {
          reference: 'a',
          ratios: { a: 1, b: 0.6 },
          minRatio: 0.6,
          worstGroup: 'b',
          threshold: 0.8,
          passes: false,
        },
      });
      const ref = (a: { sha256: string; uri: string; size: number }) => ({ kind: 'report', ...a });
      for (const [nodeId, output] of [
        ['evaluate', { metrics: { rocAuc: 0.8 }, report: ref(evaluation) }],
        [
          'fairness',
          {
            outcomes: [{ metric: 'demographicParityRatio', value: 0.6, min: 0.5, passed: true }],
            report: ref(fairness),
          },
        ],
      ] as const) {
        await env.store.steps.recordStepStart(SYSTEM, {
          runId,
          nodeId,
          step: { name: `test.${nodeId}`, version: '1' },
        });
        await env.store.steps.recordStepFinish(SYSTEM, {
          runId,
          nodeId,
          status: 'succeeded',
          output,
          artifacts: [{ sha256: modelFile.sha256, kind: 'model', size: modelFile.size }],
          lineage: { outputs: [modelFile.sha256] },
        });
      }
      await env.store.registry.registerModelVersion(SYSTEM, {
        model,
        artifactSha256: modelFile.sha256,
        metrics: { rocAuc: 0.8 },
        runId,
      });
      const otherFile = await artifacts.put(`model 2 ${runId}`);
      await env.store.artifacts.recordArtifact(SYSTEM, {
        sha256: otherFile.sha256,
        kind: 'model',
        size: otherFile.size,
      });
      await env.store.registry.registerModelVersion(SYSTEM, {
        model,
        artifactSha256: otherFile.sha256,
        metrics: { rocAuc: 0.7 },
      });

      const all = (await call(as.victor, 'GET', '/api/models')).body as ModelListItem[];
      assert.deepEqual(
        all.find((m) => m.name === model),
        { name: model, latestVersion: 2, aliases: {} },
      );
      const detail = (await call(as.victor, 'GET', `/api/models/${model}`)).body as ModelDetail;
      assert.deepEqual(
        detail.versions.map((v) => [v.version, v.runId, v.metrics.rocAuc]),
        [
          [2, null, 0.7],
          [1, runId, 0.8],
        ],
      );
      const version = (await call(as.victor, 'GET', `/api/models/${model}/versions/1`)).body as ModelVersionDetail;
      assert.equal(version.curves.class, 'bad');
      assert.deepEqual(version.curves.roc, [
        { fpr: 0, tpr: 0 },
        { fpr: 0, tpr: 0.5 },
        { fpr: 0.25, tpr: 0.75 },
        { fpr: 1, tpr: 1 },
      ]);
      // 4 positives (bad row), 8 negatives: at tpr 0.75, fpr 0.25 → TP 3, FP 2.
      assert.deepEqual(version.curves.pr, [
        { recall: 0.5, precision: 1 },
        { recall: 0.75, precision: 0.6 },
        { recall: 1, precision: 4 / 12 },
      ]);
      assert.deepEqual(version.curves.calibration, [{ predicted: 0.2, observed: 0.125, count: 8 }]);
      assert.deepEqual(version.confusion, {
        classes: ['good', 'bad'],
        counts: [
          [6, 2],
          [1, 3],
        ],
      });
      assert.deepEqual(
        version.fairness?.groups.map((g) => [g.group, g.disparateImpact]),
        [
          ['a', 1],
          ['b', 0.6],
        ],
      );
      assert.deepEqual(version.fairness?.gates, [
        { metric: 'demographicParityRatio', value: 0.6, threshold: 0.5, bound: 'min', passes: true },
        { metric: 'disparateImpact (four-fifths rule)', value: 0.6, threshold: 0.8, bound: 'min', passes: false },
      ]);
      const bare = (await call(as.victor, 'GET', `/api/models/${model}/versions/2`)).body as ModelVersionDetail;
      assert.deepEqual(bare.curves.roc, []);
      assert.equal(version.card, undefined, 'registered outside registry.register: no model card');
      assert.equal(bare.confusion, null);

      const refused = await refusals('victor', 'alias.move');
      const viewer = await call(as.victor, 'POST', `/api/models/${model}/aliases/production`, { version: 1 });
      assert.equal(viewer.status, 403);
      assert.equal(await refusals('victor', 'alias.move'), refused + 1);
      const operator = await call(as.olga, 'POST', `/api/models/${model}/aliases/production`, { version: 1 });
      assert.equal(operator.status, 403, 'moving an alias is the approver’s');

      const first = await call(as.alice, 'POST', `/api/models/${model}/aliases/production`, {
        version: 1,
        comment: 'v1 holds',
      });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, { model, alias: 'production', version: 1, previous: null, changed: true });
      const second = await call(as.alice, 'POST', `/api/models/${model}/aliases/production`, { version: 2 });
      assert.equal(second.body.previous, 1);
      const back = await call(as.alice, 'POST', `/api/models/${model}/aliases/production/rollback`, {
        comment: 'v2 drifts',
      });
      assert.deepEqual(back.body, { model, alias: 'production', version: 1, previous: 2, changed: true });
      const moves = await env.store.audit.listAudit(SYSTEM, { subject: `model:${model}#production` });
      assert.deepEqual(
        moves.map((m) => [m.actor, m.action, (m.after as { comment?: string }).comment ?? null]),
        [
          ['alice', 'model.alias.promote', 'v1 holds'],
          ['alice', 'model.alias.promote', null],
          ['alice', 'model.alias.rollback', 'v2 drifts'],
        ],
      );
      const noVersion = await call(as.alice, 'POST', `/api/models/${model}/aliases/production`, { version: 9 });
      assert.equal(noVersion.status, 404);
      assert.match(noVersion.body.error, new RegExp(`${model}@9`));
      const badVersion = await call(as.alice, 'POST', `/api/models/${model}/aliases/production`, { version: 'one' });
      assert.equal(badVersion.status, 400);
      assert.match(badVersion.body.error, /body\/version must be integer/);
      const badAlias = await call(as.alice, 'POST', `/api/models/${model}/aliases/${encodeURIComponent('../x')}`, {
        version: 1,
      });
      assert.equal(badAlias.status, 400);
      const unknownModel = await call(as.victor, 'GET', '/api/models/no-such-model');
      assert.equal(unknownModel.status, 404);
      assert.match(unknownModel.body.error, /no-such-model/);

      const lineage = (await call(as.victor, 'GET', `/api/lineage?target=${model}@1&direction=both`))
        .body as LineageResponse;
      assert.equal(lineage.root, `model:${model}@1`);
      const ids = lineage.nodes.map((n) => n.id);
      assert.ok(ids.includes(`artifact:${modelFile.sha256}`), ids.join(', '));
      assert.ok(ids.includes(`run:${runId}`), ids.join(', '));
      assert.equal(lineage.nodes.find((n) => n.id === `artifact:${modelFile.sha256}`)?.hash, modelFile.sha256);
      assert.ok(lineage.edges.some((e) => e.to === `model:${model}@1` && e.label === 'registered'));
      const badDirection = await call(as.victor, 'GET', `/api/lineage?target=${model}@1&direction=sideways`);
      assert.equal(badDirection.status, 400);
    });

    it('lists deployments, monitors and schedules, and pages and verifies the audit trail', async () => {
      for (const path of ['/api/deployments', '/api/monitors', '/api/schedules']) {
        const { status, body } = await call(as.victor, 'GET', path);
        assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
        assert.ok(Array.isArray(body), path);
      }
      const deployments = (await call(as.victor, 'GET', '/api/deployments')).body as Array<{ name: string }>;
      const name = deployments.find((d) => d.name.startsWith(`console-model-${backend.name}:`))?.name;
      assert.equal(name, `console-model-${backend.name}:production`);
      const one = await call(as.victor, 'GET', `/api/deployments/${encodeURIComponent(name!)}`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.version, 1);
      assert.deepEqual(one.body.series, []);
      assert.equal((await call(as.victor, 'GET', '/api/deployments/nope')).status, 400);
      assert.equal((await call(as.victor, 'GET', '/api/deployments/nope%3Aprod')).status, 404);
      assert.equal((await call(as.victor, 'GET', '/api/monitors/nope/reports?last=24h')).status, 404);
      assert.equal((await call(as.victor, 'GET', '/api/monitors/nope/reports?last=forever')).status, 400);

      const first = await call(as.victor, 'GET', '/api/audit?limit=3');
      assert.equal(first.status, 200);
      assert.equal(first.body.events.length, 3);
      const seqs = first.body.events.map((e: { seq: number }) => e.seq);
      assert.deepEqual(
        [...seqs].sort((a, b) => b - a),
        seqs,
        'newest first',
      );
      const second = await call(as.victor, 'GET', `/api/audit?limit=3&before=${first.body.next}`);
      assert.ok(second.body.events.every((e: { seq: number }) => e.seq < seqs.at(-1)));
      const victors = await call(as.victor, 'GET', '/api/audit?actor=victor&action=access.denied');
      assert.ok(victors.body.events.length >= 4);
      assert.ok(victors.body.events.every((e: { actor: string }) => e.actor === 'victor'));
      const verify = await call(as.victor, 'GET', '/api/audit/verify');
      assert.equal(verify.status, 200);
      assert.equal(verify.body.ok, true);
      assert.ok(verify.body.checked > 0);
    });

    it('pages through 10,000 runs newest first, each once, by keyset', async () => {
      const plan = compile(pipeline({ name: 'console-many' }, (p) => p.step(noop, {})));
      await env.store.runs.recordPlan(SYSTEM, plan);
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const rows = Array.from({ length: 10_000 }, (_, i) => ({
        id: `many-${String(i).padStart(5, '0')}`,
        workflowId: `many-${i}`,
        pipelineName: plan.name,
        planHash: plan.hash,
        status: i % 10 === 0 ? ('failed' as const) : ('succeeded' as const),
        // Pairs share a start time: the run id breaks the tie.
        startedAt: new Date(t0 + Math.floor(i / 2) * 1000),
        finishedAt: new Date(t0 + Math.floor(i / 2) * 1000 + 500),
      }));
      for (let i = 0; i < rows.length; i += 1000) await env.store.db.insert(runs).values(rows.slice(i, i + 1000));

      const seen: string[] = [];
      const times: number[] = [];
      let next: string | null = null;
      do {
        const started = performance.now();
        const page = (
          await call(as.victor, 'GET', `/api/runs?pipeline=console-many&limit=500${next ? `&before=${next}` : ''}`)
        ).body as RunsPage;
        times.push(performance.now() - started);
        seen.push(...page.runs.map((r) => r.runId));
        next = page.next;
      } while (next);
      assert.equal(seen.length, 10_000);
      assert.equal(new Set(seen).size, 10_000);
      assert.deepEqual(seen, rows.map((r) => r.id).reverse());
      console.log(
        `${backend.name}: 20 pages of 500 of 10,000 runs, first ${times[0]!.toFixed(0)} ms, last ${times.at(-1)!.toFixed(0)} ms`,
      );

      const failed = (await call(as.victor, 'GET', '/api/runs?pipeline=console-many&state=failed&limit=5'))
        .body as RunsPage;
      assert.deepEqual(
        failed.runs.map((r) => r.runId),
        ['many-09990', 'many-09980', 'many-09970', 'many-09960', 'many-09950'],
      );
      assert.equal(failed.runs[0]!.durationMs, 500);
      const unfiltered = (await call(as.victor, 'GET', '/api/runs?limit=2')).body as RunsPage;
      assert.equal(unfiltered.runs.length, 2);
      assert.ok(unfiltered.next);
      await env.store.db.delete(runs).where(eq(runs.pipelineName, plan.name));
    });

    it('serves the web app, with index.html for client routes, and JSON 404s under /api', async () => {
      const dist = await mkdtemp(join(tmpdir(), 'kiln-console-dist-'));
      await mkdir(join(dist, 'assets'));
      await writeFile(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
      await writeFile(join(dist, 'assets', 'app.js'), 'console.log(1)');
      const web = await createConsoleServer({ store: env.store, client: env.kiln.client, webDist: dist });
      const url = await web.listen();
      try {
        for (const path of ['/', '/runs/some-run', '/models/credit-risk/versions/1']) {
          const page = await fetch(`${url}${path}`);
          assert.equal(page.status, 200, path);
          assert.match(await page.text(), /id="root"/, path);
        }
        const script = await fetch(`${url}/assets/app.js`);
        assert.match(script.headers.get('content-type') ?? '', /javascript/);
        assert.equal((await fetch(`${url}/assets/missing.js`)).status, 404);
        const escape = await fetch(`${url}/assets/..%2f..%2f..%2fetc%2fpasswd`);
        assert.doesNotMatch(await escape.text(), /root:/, 'no file outside the web app is served');
        const api = await fetch(`${url}/api/nope`, { headers: { cookie: as.victor.cookie } });
        assert.equal(api.status, 401, 'another server: this session is unknown to it');
      } finally {
        await web.close();
        await rm(dist, { recursive: true, force: true });
      }
    });

    it('computes precision-recall from ROC points and the class counts', () => {
      assert.deepEqual(prCurve([0, 0.5, 1], [0, 1, 1], 2, 2), [
        { recall: 1, precision: 2 / 3 },
        { recall: 1, precision: 0.5 },
      ]);
    });
  });
