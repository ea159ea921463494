import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ModelRef } from '../../activities/refs';
import type { ModelServer } from '../../serving';
import type { Store } from '../../store';
import { testBackends } from '../support/backends';
import { testContext } from '../support/step-context';
import {
  features,
  post,
  register,
  shiftedModel,
  startServer,
  trainCreditModel,
  type CreditModel,
} from './credit-model';
import { SYSTEM } from '../../store/access';

// What the server does with the store, on PGlite and on PostgreSQL: the prediction log (sensitive
// fields hashed) and delayed labels, the traffic split (canary share, shadow), and a hot swap under
// continuous load in which every request gets a 200.

type Ctx = Awaited<ReturnType<typeof testContext>>;
type Answer = { status: number; body: Record<string, unknown> };

let ctx: Ctx;
let credit: CreditModel;
let shiftedUp: ModelRef;
let shiftedDown: ModelRef;

before(async () => {
  ctx = await testContext();
  credit = await trainCreditModel(ctx);
  shiftedUp = await shiftedModel(ctx.artifacts, credit, 1.5);
  shiftedDown = await shiftedModel(ctx.artifacts, credit, -1.5);
});
after(async () => {
  await ctx.dispose();
});

for (const backend of testBackends()) {
  describe(`serving on ${backend.name}`, () => {
    let store: Store;
    let server: ModelServer;
    let predict: string;
    let feedback: string;
    const rows = () => credit.holdout.slice(0, 3).map(features);

    before(async () => {
      store = await backend.open();
      await register(ctx, store, credit.model, 'credit-risk', 'production');
      await register(ctx, store, shiftedUp);
      await register(ctx, store, shiftedDown);
      let url: string;
      ({ server, url } = await startServer(ctx, store, {
        models: [{ name: 'credit-risk', alias: 'production', sensitive: ['age'] }],
        log: { sensitive: ['personal_status'], flushMs: 20, hashKey: 'test-key' },
      }));
      predict = `${url}/v1/models/credit-risk/predict`;
      feedback = `${url}/v1/models/credit-risk/feedback`;
    });
    after(async () => {
      await server?.close();
      await backend.close();
    });

    it('logs every predicted row with its request id, version, output and latency, sensitive fields hashed', async () => {
      const answer = await post(predict, { rows: rows() });
      assert.equal(answer.status, 200);
      await server.log!.flush();
      const logged = (await store.serving.listPredictions(SYSTEM, { model: 'credit-risk' })).filter(
        (p) => p.requestId === answer.body.requestId,
      );
      assert.deepEqual(
        logged.map((p) => [p.rowIndex, p.version, p.route, p.served]),
        [
          [0, 1, 'current', true],
          [1, 1, 'current', true],
          [2, 1, 'current', true],
        ],
      );
      const predictions = answer.body.predictions as Array<{ label: string; probabilities: Record<string, number> }>;
      logged.forEach((p, i) => {
        const sent = rows()[i]!;
        assert.equal(p.label, predictions[i]!.label);
        assert.deepEqual(
          p.probabilities,
          credit.spec.classes.map((c) => predictions[i]!.probabilities[c]),
        );
        assert.ok(p.latencyMs > 0);
        assert.match(String(p.features.age), /^hmac-sha256:[0-9a-f]{32}$/);
        assert.match(String(p.features.personal_status), /^hmac-sha256:[0-9a-f]{32}$/);
        assert.notEqual(p.features.personal_status, sent.personal_status);
        assert.equal(p.features.purpose, sent.purpose);
        assert.equal(p.features.duration, sent.duration);
      });
      // Keyed, not random: equal values hash equal, so drift on a hashed column stays measurable.
      assert.equal(server.log!.hash(rows()[0]!.personal_status), logged[0]!.features.personal_status);
    });

    it('attaches delayed true labels to a request, row by row, and refuses a request it never logged', async () => {
      const batch = await post(predict, { rows: rows() });
      const one = await post(predict, rows()[0]);
      const labelled = await post(feedback, { requestId: batch.body.requestId, labels: ['good', 'bad', 'good'] });
      assert.equal(labelled.status, 200);
      assert.deepEqual(labelled.body.labelled, [0, 1, 2]);
      assert.equal((await post(feedback, { requestId: one.body.requestId, label: 'bad' })).status, 200);

      const logged = await store.serving.listPredictions(SYSTEM, { model: 'credit-risk' });
      const truth = (id: unknown) => logged.filter((p) => p.requestId === id).map((p) => p.trueLabel);
      assert.deepEqual(truth(batch.body.requestId), ['good', 'bad', 'good']);
      assert.deepEqual(truth(one.body.requestId), ['bad']);

      const unknown = await post(feedback, { requestId: 'no-such-request', label: 'good' });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error, 'PredictionNotFound');
      assert.equal((await post(feedback, { requestId: one.body.requestId })).status, 400);
    });

    it('sends the canary its share of requests, exactly, and all of them back when the split is cleared', async () => {
      await store.serving.setTrafficSplit(SYSTEM, {
        model: 'credit-risk',
        alias: 'production',
        mode: 'canary',
        candidate: 2,
        percent: 20,
      });
      await server.refresh();
      const answers: Answer[] = [];
      for (let i = 0; i < 25; i++)
        answers.push(...(await Promise.all(Array.from({ length: 8 }, () => post(predict, rows()[0])))));
      assert.ok(answers.every((a) => a.status === 200));
      const toCandidate = answers.filter((a) => a.body.version === 2).length;
      assert.ok(Math.abs(toCandidate - 40) <= 1, `${toCandidate} of 200 went to the candidate, expected 40`);
      assert.ok(answers.every((a) => a.body.version === 1 || a.body.version === 2));

      await store.serving.clearTrafficSplit(SYSTEM, 'credit-risk', 'production');
      await server.refresh();
      const after = await Promise.all(Array.from({ length: 20 }, () => post(predict, rows()[0])));
      assert.ok(after.every((a) => a.body.version === 1));
    });

    it('in shadow mode answers only with the current version while logging both', async () => {
      await store.serving.setTrafficSplit(SYSTEM, {
        model: 'credit-risk',
        alias: 'production',
        mode: 'shadow',
        candidate: 3,
        percent: 0,
      });
      await server.refresh();
      const sent = rows()[1]!;
      const plain = await post(predict, sent);
      const answers = await Promise.all(Array.from({ length: 20 }, () => post(predict, sent)));
      assert.ok(answers.every((a) => a.status === 200 && a.body.version === 1));
      assert.ok(
        answers.every((a) => JSON.stringify(a.body.probabilities) === JSON.stringify(plain.body.probabilities)),
      );

      await new Promise((r) => setTimeout(r, 50));
      await server.log!.flush();
      const ids = new Set(answers.map((a) => a.body.requestId));
      const logged = (await store.serving.listPredictions(SYSTEM, { model: 'credit-risk' })).filter((p) =>
        ids.has(p.requestId),
      );
      const byRoute = (route: string) => logged.filter((p) => p.route === route);
      assert.equal(byRoute('current').length, 20);
      assert.equal(byRoute('shadow').length, 20);
      assert.ok(byRoute('current').every((p) => p.version === 1 && p.served));
      assert.ok(byRoute('shadow').every((p) => p.version === 3 && !p.served));
      // The shadow is another model: its answers differ from what the caller got.
      assert.notDeepEqual(byRoute('shadow')[0]!.probabilities, byRoute('current')[0]!.probabilities);
      await store.serving.clearTrafficSplit(SYSTEM, 'credit-risk', 'production');
      await server.refresh();
    });

    it('swaps versions in as the alias moves under continuous load, without a failed or dropped request', async () => {
      const answers: Answer[] = [];
      const failures: unknown[] = [];
      let sent = 0;
      let running = true;
      const client = async () => {
        while (running) {
          sent++;
          try {
            answers.push(await post(predict, sent % 2 ? rows()[0] : { rows: rows() }));
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const clients = Array.from({ length: 6 }, client);
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      await pause(300);
      await store.registry.promote(SYSTEM, 'credit-risk', 2, 'production');
      await pause(400);
      await store.registry.promote(SYSTEM, 'credit-risk', 3, 'production');
      await pause(400);
      await store.registry.rollback(SYSTEM, 'credit-risk', 'production');
      const rolledBack = answers.length;
      // The server polls the store; under load on 2 cores the swap back may take longer than a pause.
      for (
        let waited = 0;
        waited < 10_000 && !answers.slice(rolledBack).some((a) => a.body.version === 2);
        waited += 50
      )
        await pause(50);
      await pause(200);
      running = false;
      await Promise.all(clients);

      assert.deepEqual(failures, []);
      assert.equal(answers.length, sent);
      const statuses = new Set(answers.map((a) => a.status));
      assert.deepEqual([...statuses], [200]);
      const versions = answers.map((a) => a.body.version as number);
      assert.deepEqual([...new Set(versions)].sort(), [1, 2, 3]);
      assert.equal((await post(predict, rows()[0])).body.version, 2, 'after the rollback, version 2 answers');
      assert.ok(answers.length > 100, `only ${answers.length} requests in 1.5 s`);
      const metrics = await (await fetch(predict.replace(/\/v1\/.*/, '/metrics'))).text();
      assert.doesNotMatch(metrics, /kiln_predict_errors_total\{model="credit-risk"/);
      assert.match(metrics, /kiln_model_swaps_total\{model="credit-risk",outcome="swapped"\}/);
    });

    it('deletes logged predictions older than a retention cutoff, and only those', async () => {
      await server.log!.flush();
      const cutoff = new Date();
      await new Promise((r) => setTimeout(r, 5));
      const kept = await post(predict, rows()[0]);
      await server.log!.flush();
      const deleted = await store.serving.deletePredictionsBefore(SYSTEM, cutoff, { batch: 100 });
      assert.ok(deleted > 200, `deleted ${deleted}`);
      const left = await store.serving.listPredictions(SYSTEM, { model: 'credit-risk' });
      assert.deepEqual(
        left.map((p) => p.requestId),
        [kept.body.requestId],
      );
    });
  });
}
