import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { scoreModelImpl } from '../../activities/model/score';
import { probabilityColumn, scoreModel } from '../../activities/model/steps';
import { createModelServer, storeSource, type ModelServer } from '../../serving';
import { storeContext } from '../support/store-context';
import { and, eq, gte } from 'drizzle-orm';
import { brokenModel, features, post, register, startServer, trainCreditModel, type CreditModel } from './credit-model';
import { SYSTEM } from '../../store/access';
import { predictionErrors } from '../../store/schema';

// The server over HTTP on loopback, on the German credit model: answers against batch scoring,
// every refusal with its status and the row and field it names, readiness, metrics, hostile input.

type Ctx = Awaited<ReturnType<typeof storeContext>>;

let ctx: Ctx;
let credit: CreditModel;
let server: ModelServer;
let url: string;
let predict: string;

before(async () => {
  ctx = await storeContext();
  credit = await trainCreditModel(ctx);
  await register(ctx, ctx.full, credit.model, 'credit-risk', 'production');
  ({ server, url } = await startServer(ctx, ctx.full, { maxRows: 500, bodyLimit: 256 * 1024, log: false }));
  predict = `${url}/v1/models/credit-risk/predict`;
});
after(async () => {
  await server?.close();
  await ctx.dispose();
});

describe('predict', () => {
  it('answers every held-out row as batch scoring (model.score) does, one row per request and in one batch', async () => {
    const scored = await scoreModelImpl.run(scoreModel.input.parse({ model: credit.model, dataset: credit.test }), ctx);
    const expected = (await loadDataset(ctx.artifacts, scored.predictions)).rows;
    const rows = credit.holdout.map(features);

    const batch = await post(predict, { rows });
    assert.equal(batch.status, 200);
    assert.equal(batch.body.model, 'credit-risk');
    assert.equal(batch.body.version, 1);
    assert.match(String(batch.body.requestId), /^[0-9a-f-]{36}$/);
    const predictions = batch.body.predictions as Array<{ label: string; probabilities: Record<string, number> }>;
    assert.equal(predictions.length, expected.length);
    predictions.forEach((p, i) => {
      assert.equal(p.label, expected[i]!.prediction, `row ${i}`);
      for (const cls of credit.spec.classes)
        assert.ok(
          Math.abs(p.probabilities[cls]! - (expected[i]![probabilityColumn(cls)] as number)) < 1e-9,
          `row ${i}`,
        );
    });

    for (const i of [0, 1, 17, rows.length - 1]) {
      const one = await post(predict, rows[i]);
      assert.equal(one.status, 200);
      assert.equal(one.body.label, expected[i]!.prediction);
      assert.deepEqual(one.body.probabilities, predictions[i]!.probabilities);
    }
  });

  it('imputes a feature sent as null, as the model was trained to', async () => {
    const res = await post(predict, { ...features(credit.holdout[0]!), age: null, purpose: null });
    assert.equal(res.status, 200);
  });
});

describe('bad requests', () => {
  const row = () => features(credit.holdout[0]!);

  it('refuses a missing feature with 400 naming the field and the row', async () => {
    const { age: _age, ...missing } = row();
    const one = await post(predict, missing);
    assert.equal(one.status, 400);
    assert.deepEqual([one.body.row, one.body.field], [0, 'age']);
    assert.match(String(one.body.message), /row 0: feature 'age' is missing/);

    const batch = await post(predict, { rows: [row(), row(), missing] });
    assert.equal(batch.status, 400);
    assert.deepEqual([batch.body.row, batch.body.field], [2, 'age']);
  });

  it('refuses a mistyped feature with 400 naming the field and the row', async () => {
    const res = await post(predict, { rows: [row(), { ...row(), duration: 'twelve' }] });
    assert.equal(res.status, 400);
    assert.deepEqual([res.body.row, res.body.field], [1, 'duration']);
    assert.match(String(res.body.message), /row 1: feature 'duration' must be number or null, got "twelve"/);

    const object = await post(predict, { ...row(), purpose: { $ne: 1 } });
    assert.equal(object.status, 400);
    assert.equal(object.body.field, 'purpose');
  });

  it('refuses a body that is not a row or a batch with 400', async () => {
    for (const body of ['[1,2,3]', '"row"', '{"rows": []}', '{"rows": [1]}', '{"rows": {"a": 1}}', '{not json']) {
      const res = await post(predict, body);
      assert.equal(res.status, 400, body);
    }
  });

  it('answers 404 for a model it does not serve', async () => {
    const res = await post(`${url}/v1/models/fraud/predict`, row());
    assert.equal(res.status, 404);
    assert.match(String(res.body.message), /no model 'fraud' is served here; served: credit-risk/);
  });

  it('answers 413 for a body over the limit and for a batch over the row limit', async () => {
    const big = await post(predict, { rows: Array.from({ length: 2000 }, row) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'BodyTooLarge');

    const many = await post(predict, { rows: Array.from({ length: 501 }, () => ({ age: 1 })) });
    assert.equal(many.status, 413);
    assert.equal(many.body.error, 'BatchTooLarge');
    assert.match(String(many.body.message), /501 rows; this server takes at most 500/);
  });
});

describe('hostile requests', () => {
  const row = () => features(credit.holdout[0]!);

  it('refuses prototype-pollution keys and leaves Object.prototype alone', async () => {
    const text = JSON.stringify(row()).replace(/^\{/, '{"__proto__": {"polluted": true}, ');
    const res = await post(predict, `{"rows": [${text}]}`);
    assert.equal(res.status, 400);
    const ctor = await post(predict, JSON.stringify({ ...row(), constructor: { prototype: { polluted: true } } }));
    assert.equal(ctor.status, 400);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses a row with a huge number of fields without scoring it', async () => {
    const wide = { ...row(), ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, i])) };
    const res = await post(predict, wide);
    assert.equal(res.status, 400);
    assert.match(String(res.body.message), /row 0 has more than \d+ fields/);
  });

  it('answers 404 for a model name that walks out of the path, and keeps it out of the metric labels', async () => {
    for (const name of ['..%2F..%2Fetc%2Fpasswd', '..', '%2e%2e', '__proto__', 'constructor', 'x'.repeat(150)]) {
      const res = await post(`${url}/v1/models/${name}/predict`, row());
      assert.equal(res.status, 404, name);
    }
    const raw = await new Promise<number>((done, fail) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: new URL(url).port, method: 'POST', path: '/v1/models/../../predict' },
        (res) => {
          res.resume();
          done(res.statusCode!);
        },
      );
      req.on('error', fail);
      req.end('{}');
    });
    assert.equal(raw, 404);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.doesNotMatch(text, /passwd|__proto__|xxxxxxxx/);
    assert.match(text, /kiln_predict_errors_total\{model="\(unknown\)",version="",status="404"\} \d+/);
  });

  it('refuses a number JSON can only spell as infinity', async () => {
    const res = await post(predict, JSON.stringify(row()).replace(/"age":\d+/, '"age":1e999'));
    assert.equal(res.status, 400);
    assert.equal(res.body.field, 'age');
  });
});

describe('health, readiness and metrics', () => {
  it('is healthy at once and ready only once its models are loaded', async () => {
    const slow = createModelServer({
      source: {
        ...storeSource(ctx.full, ctx.artifacts, SYSTEM),
        routing: async (name, alias) => {
          await new Promise((r) => setTimeout(r, 300));
          return ctx.full.serving.servedVersions(SYSTEM, name, alias);
        },
      },
      models: [{ name: 'credit-risk', alias: 'production' }],
      log: false,
    });
    try {
      await slow.app.ready();
      assert.equal((await slow.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const loading = slow.load();
      const early = await slow.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(early.statusCode, 503);
      assert.equal(early.json().ready, false);
      const refused = await slow.app.inject({ method: 'POST', url: '/v1/models/credit-risk/predict', payload: row0() });
      assert.equal(refused.statusCode, 503);
      await loading;
      const ready = await slow.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json().models['credit-risk'], { current: 1, candidate: null, split: null });
    } finally {
      await slow.close();
    }
  });

  it('exposes request counts, error counts and a latency histogram per model and version', async () => {
    await post(predict, row0());
    await post(predict, { rows: [{}] });
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /kiln_predict_requests_total\{model="credit-risk",version="1",status="200"\} [1-9]/);
    assert.match(text, /kiln_predict_errors_total\{model="credit-risk",version="1",status="400"\} [1-9]/);
    assert.match(text, /kiln_predict_duration_seconds_bucket\{le="0.005",model="credit-risk",version="1"\} [1-9]/);
    assert.match(text, /kiln_predict_duration_seconds_count\{model="credit-risk",version="1"\} [1-9]/);
    assert.match(text, /kiln_served_version\{model="credit-risk",alias="production",role="current"\} 1/);
  });
});

describe('scoring failures', () => {
  it("answers 500 when a version's forward pass throws, and logs the failure with its model, version and route", async () => {
    const store = ctx.full;
    const broken = await register(ctx, store, await brokenModel(ctx.artifacts, credit));
    await store.registry.promote(SYSTEM, 'credit-risk', 1, 'failing');
    await store.serving.setTrafficSplit(SYSTEM, {
      model: 'credit-risk',
      alias: 'failing',
      mode: 'canary',
      candidate: broken,
      percent: 100,
    });
    const reported: string[] = [];
    const { server: failing, url: base } = await startServer(ctx, store, {
      models: [{ name: 'credit-risk', alias: 'failing' }],
      log: { flushMs: 20, hashKey: 'k' },
      onError: (_error, context) => reported.push(context),
    });
    const logged = (route: 'canary' | 'shadow', since: Date) =>
      store.db
        .select()
        .from(predictionErrors)
        .where(and(eq(predictionErrors.route, route), gte(predictionErrors.at, since)));
    try {
      const since = new Date();
      const endpoint = `${base}/v1/models/credit-risk/predict`;
      const failed = await post(endpoint, row0());
      assert.equal(failed.status, 500);
      assert.equal(failed.body.error, 'InternalError');
      const { age: _age, ...missing } = row0();
      assert.equal((await post(endpoint, missing)).status, 400, "a caller's mistake is not the version's failure");
      await failing.log!.flush();
      const errors = await logged('canary', since);
      assert.deepEqual(
        errors.map((e) => [e.model, e.version, e.route, e.errorType]),
        [['credit-risk', broken, 'canary', 'RangeError']],
      );
      assert.match(errors[0]!.message, /a layer expects \d+ inputs, got \d+/);
      assert.equal(
        await store.serving.countPredictionErrors(SYSTEM, { model: 'credit-risk', version: broken, since }),
        1,
      );

      // As a shadow it fails out of the caller's sight: the answer is the current version's, the failure is logged.
      await store.serving.setTrafficSplit(SYSTEM, {
        model: 'credit-risk',
        alias: 'failing',
        mode: 'shadow',
        candidate: broken,
        percent: 0,
      });
      await failing.refresh();
      const answered = await post(endpoint, row0());
      assert.equal(answered.status, 200);
      assert.equal(answered.body.version, 1);
      let shadowed: Awaited<ReturnType<typeof logged>> = [];
      for (let i = 0; i < 50 && shadowed.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await failing.log!.flush();
        shadowed = await logged('shadow', since);
      }
      assert.deepEqual(
        shadowed.map((e) => [e.requestId, e.version, e.route]),
        [[answered.body.requestId, broken, 'shadow']],
      );
      assert.ok(reported.includes(`shadow of credit-risk v${broken}`), reported.join('; '));
    } finally {
      await failing.close();
      await store.serving.clearTrafficSplit(SYSTEM, 'credit-risk', 'failing');
    }
  });
});

const row0 = () => features(credit.holdout[0]!);
