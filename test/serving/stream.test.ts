import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { ModelServer } from '../../serving';
import {
  ensureStream,
  parseEvent,
  startStreamScoring,
  StreamEventError,
  streamSource,
  type StreamScorer,
  type StreamScoringOptions,
} from '../../serving/stream';
import { JetStreamPublisher, Outbox, StreamPublishError } from '../../serving/stream/publisher';
import { SYSTEM } from '../../store/access';
import { startNats, type TestNats } from '../support/nats';
import { storeContext } from '../support/store-context';
import {
  features,
  post,
  register,
  shiftedModel,
  startServer,
  trainCreditModel,
  type CreditModel,
} from './credit-model';

// `kiln stream` on a real nats-server and a real store, with the German credit model: answers as
// the model server gives them, each event published and logged once through redeliveries, a
// consumer restart and a server restart, malformed events dead-lettered, alias moves followed.

type Ctx = Awaited<ReturnType<typeof storeContext>>;

let ctx: Ctx;
let credit: CreditModel;
let nats: TestNats;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let server: ModelServer;
let predictUrl: string;
const scorers: StreamScorer[] = [];

before(async () => {
  ctx = await storeContext();
  credit = await trainCreditModel(ctx);
  await register(ctx, ctx.full, credit.model, 'credit-risk', 'production');
  await register(ctx, ctx.full, await shiftedModel(ctx.artifacts, credit, 2));
  nats = await startNats();
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  let url: string;
  ({ server, url } = await startServer(ctx, ctx.full, { log: false }));
  predictUrl = `${url}/v1/models/credit-risk/predict`;
});
after(async () => {
  for (const s of scorers) await s.stop({ timeoutMs: 2000 });
  await server?.close();
  await nc?.close();
  await nats?.stop();
  await ctx?.dispose();
});

const rows = () => credit.holdout.map(features);

async function start(name: string, options: Partial<StreamScoringOptions> = {}): Promise<StreamScorer> {
  const scorer = await startStreamScoring({
    connection: nc,
    source: streamSource(ctx.full, ctx.artifacts, SYSTEM),
    model: 'credit-risk',
    alias: 'production',
    from: `${name}.in`,
    to: `${name}.out`,
    pollMs: 50,
    ackWaitMs: 1000,
    retryDelayMs: 200,
    publishTimeoutMs: 1000,
    onError: () => {},
    ...options,
  });
  scorers.push(scorer);
  return scorer;
}

async function stop(scorer: StreamScorer) {
  scorers.splice(scorers.indexOf(scorer), 1);
  await scorer.stop({ timeoutMs: 2000 });
}

/** Publishes events, retrying through a server restart. */
async function publish(subject: string, events: Array<Record<string, unknown> | string>): Promise<void> {
  await ensureStream(jsm, subject);
  for (const event of events) {
    const data = typeof event === 'string' ? event : JSON.stringify(event);
    for (let attempt = 0; ; attempt++) {
      try {
        await js.publish(subject, data, { timeout: 1000 });
        break;
      } catch (error) {
        if (attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

interface Stored {
  data: Record<string, unknown>;
  headers: Record<string, string>;
}

/** Every message stored on `subject` (each test subject has a stream of its own), in order. */
async function stored(subject: string): Promise<Stored[]> {
  const stream = await jsm.streams.find(subject);
  const count = (await jsm.streams.info(stream)).state.messages;
  if (count === 0) return [];
  // Ordered, unfiltered: nats-server 2.9 takes no filter_subjects.
  const consumer = await js.consumers.get(stream);
  const out: Stored[] = [];
  const messages = await consumer.fetch({ max_messages: count, expires: 2000 });
  for await (const m of messages) {
    const h: Record<string, string> = {};
    for (const key of m.headers?.keys() ?? []) h[key] = m.headers!.get(key);
    let data: Record<string, unknown>;
    try {
      data = m.json<Record<string, unknown>>();
    } catch {
      data = { raw: m.string() };
    }
    out.push({ data, headers: h });
    if (out.length === count) break;
  }
  return out;
}

/** The logged rows of events from `subject`'s stream. */
async function loggedFor(subject: string) {
  const stream = await jsm.streams.find(subject);
  const all = await ctx.full.serving.listPredictions(SYSTEM, { model: 'credit-risk', limit: 100_000 });
  return all.filter((p) => p.requestId.startsWith(`${stream}:`));
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the consumer has nothing pending or unacknowledged. */
async function settled(scorer: StreamScorer, timeoutMs = 20_000) {
  await until(
    'the consumer to settle',
    async () => {
      const info = await jsm.consumers.info(scorer.stream, scorer.durable);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    timeoutMs,
  );
}

describe('kiln stream', () => {
  it('publishes, for every event, the answer the model server gives for the same row, and logs it', async () => {
    const events = rows().slice(0, 40);
    await publish('s1.in', events);
    const scorer = await start('s1');
    await until('40 scored', () => scorer.counts.scored === 40);
    await settled(scorer);
    const out = await stored('s1.out');
    assert.equal(out.length, 40);
    for (const [i, message] of out.entries()) {
      const expected = await post(predictUrl, events[i]);
      const { requestId, ...answer } = message.data;
      const { requestId: _http, ...fromServer } = expected.body;
      assert.deepEqual(answer, fromServer, `event ${i}`);
      assert.equal(message.headers['Kiln-Source-Sequence'], String(i + 1));
      assert.equal(message.headers['Kiln-Request-Id'], requestId);
      assert.equal(message.headers['Nats-Msg-Id'], `credit-risk:${String(requestId)}`);
    }
    const log = await loggedFor('s1.in');
    assert.equal(log.length, 40);
    assert.deepEqual(new Set(log.map((p) => p.requestId)), new Set(out.map((m) => m.data.requestId)));
    assert.ok(log.every((p) => p.version === 1 && p.route === 'current' && p.served));
    await stop(scorer);
  });

  it('scores a batch event ({ rows: [...] }) as the server scores a batch request', async () => {
    const batch = { rows: rows().slice(0, 5) };
    await publish('s6.in', [batch]);
    const scorer = await start('s6');
    await settled(scorer);
    const [message] = await stored('s6.out');
    const { requestId: _stream, ...answer } = message!.data;
    const { requestId: _http, ...fromServer } = (await post(predictUrl, batch)).body;
    assert.deepEqual(answer, fromServer);
    assert.equal((await loggedFor('s6.in')).length, 5);
    await stop(scorer);
  });

  it('publishes and logs a nak-ed event and one whose ack was lost once', async () => {
    const events = rows().slice(0, 12);
    await publish('s2.in', events);
    const scorer = await start('s2', {
      beforeAck: ({ seq, deliveries }) => {
        if (deliveries > 1) return 'ack';
        if (seq === 3 || seq === 4) return 'nak';
        if (seq === 7 || seq === 8) return 'skip';
        return 'ack';
      },
    });
    await settled(scorer);
    assert.ok(scorer.counts.received >= 16, `received ${scorer.counts.received}`);
    assert.equal(scorer.counts.published, 12);
    assert.equal(scorer.counts.duplicates, 4);
    assert.equal((await stored('s2.out')).length, 12);
    const log = await loggedFor('s2.in');
    assert.equal(log.length, 12);
    assert.equal(new Set(log.map((p) => p.requestId)).size, 12);
    await stop(scorer);
  });

  it('publishes and logs once the events a consumer handled but stopped before acknowledging', async () => {
    const events = rows().slice(0, 10);
    await publish('s3.in', events);
    const first = await start('s3', { beforeAck: () => 'skip' });
    await until('10 handled', () => first.counts.scored === 10);
    await stop(first);
    const second = await start('s3');
    await settled(second);
    assert.equal(second.counts.scored, 10);
    assert.equal(second.counts.published, 0);
    assert.equal(second.counts.duplicates, 10);
    assert.equal((await stored('s3.out')).length, 10);
    assert.equal((await loggedFor('s3.in')).length, 10);
    await stop(second);
  });

  it('sends malformed events to the dead-letter subject with the reason and scores the events after them', async () => {
    const [a, b] = rows();
    const { age: _age, ...missing } = a!;
    await publish('s4.in', [a!, '{not json', missing, { ...b!, duration: 'twelve' }, '{"__proto__": {"x": 1}}', b!]);
    const scorer = await start('s4');
    await settled(scorer);
    const dead = await stored('s4.in.dead');
    assert.deepEqual(
      dead.map((d) => [d.headers['Kiln-Source-Sequence'], d.headers['Kiln-Dead-Code']]),
      [
        ['2', 'InvalidJson'],
        ['3', 'InvalidRequest'],
        ['4', 'InvalidRequest'],
        ['5', 'InvalidJson'],
      ],
    );
    assert.match(dead[0]!.headers['Kiln-Dead-Reason']!, /the event is not JSON/);
    assert.match(dead[1]!.headers['Kiln-Dead-Reason']!, /feature 'age' is missing/);
    assert.equal(dead[2]!.headers['Kiln-Dead-Field'], 'duration');
    assert.match(dead[2]!.headers['Kiln-Dead-Reason']!, /must be number or null, got "twelve"/);
    assert.equal(dead[0]!.data.raw, '{not json');
    const out = await stored('s4.out');
    assert.deepEqual(
      out.map((m) => m.headers['Kiln-Source-Sequence']),
      ['1', '6'],
    );
    assert.equal((await loggedFor('s4.in')).length, 2);
    await stop(scorer);
  });

  it('switches to the version the alias moves to mid-stream', async () => {
    const events = rows().slice(0, 16);
    const scorer = await start('s5');
    await publish('s5.in', events.slice(0, 8));
    await until('8 scored', () => scorer.counts.scored === 8);
    await ctx.full.registry.promote(SYSTEM, 'credit-risk', 2, 'production');
    try {
      await until(
        'v2 loaded',
        () => scorer.served.state.current === 2 && server.models.get('credit-risk')!.state.current === 2,
      );
      await publish('s5.in', events.slice(8));
      await settled(scorer);
      const out = await stored('s5.out');
      assert.deepEqual(
        out.map((m) => m.data.version),
        [...Array(8).fill(1), ...Array(8).fill(2)],
      );
      for (const [i, message] of out.entries()) {
        if (i < 8) continue;
        const { requestId: _http, ...fromServer } = (await post(predictUrl, events[i])).body;
        const { requestId: _stream, ...answer } = message.data;
        assert.deepEqual(answer, fromServer, `event ${i}`);
      }
      const versions = (await loggedFor('s5.in')).map((p) => p.version).sort();
      assert.deepEqual(versions, [...Array(8).fill(1), ...Array(8).fill(2)]);
    } finally {
      await ctx.full.registry.promote(SYSTEM, 'credit-risk', 1, 'production');
    }
    await stop(scorer);
  });

  it('scores every event exactly once across a nats-server restart', async (t) => {
    const events = rows().slice(0, 60);
    // A slow log keeps events between publish and ack when the server goes down.
    const source = streamSource(ctx.full, ctx.artifacts, SYSTEM);
    const slow = {
      ...source,
      writePredictions: async (records: Parameters<typeof source.writePredictions>[0]) => {
        await new Promise((r) => setTimeout(r, 500));
        await source.writePredictions(records);
      },
    };
    const scorer = await start('s7', { ackWaitMs: 2000, source: slow, log: { batchSize: 4 } });
    await publish('s7.in', events.slice(0, 30));
    await until('some scored', () => scorer.counts.scored >= 4);
    assert.ok(scorer.counts.scored < 30, 'events are still in flight at the restart');
    await nats.restart({ downMs: 300 });
    await publish('s7.in', events.slice(30));
    await until('60 logged', async () => (await loggedFor('s7.in')).length >= 60, 40_000);
    await settled(scorer, 40_000);
    const log = await loggedFor('s7.in');
    assert.equal(log.length, 60);
    assert.equal(new Set(log.map((p) => p.requestId)).size, 60);
    const out = await stored('s7.out');
    assert.equal(out.length, 60);
    t.diagnostic(`consumer counts across the restart: ${JSON.stringify(scorer.counts)}`);
    assert.deepEqual(
      out.map((m) => Number(m.headers['Kiln-Source-Sequence'])).sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    await stop(scorer);
  });
});

describe('stream events', () => {
  it('parses an event as JSON', () => {
    assert.deepEqual(parseEvent(new TextEncoder().encode('{"age": 30, "note": "a\\"b"}')), { age: 30, note: 'a"b' });
  });

  it('refuses the forbidden keys also when spelled with escapes', () => {
    for (const event of [
      '{"__proto__": {"x": 1}}',
      '{"\\u005f_proto__": {"x": 1}}',
      '{"a": {"constructor": {"prototype": {}}}}',
      '{"a": {"\\u0063onstructor": {"prototype": {}}}}',
    ])
      assert.throws(
        () => parseEvent(new TextEncoder().encode(event)),
        (error) =>
          error instanceof StreamEventError && error.code === 'InvalidJson' && /forbidden key/.test(error.message),
        event,
      );
  });
});

describe('JetStream publisher', () => {
  const publisher = (timeoutMs = 1000) => new JetStreamPublisher(nc, new Outbox(() => {}), timeoutMs);

  it('resolves with the PubAck, and reports a repeated Nats-Msg-Id as a duplicate', async () => {
    await ensureStream(jsm, 'p1.out');
    const p = publisher();
    try {
      const first = await p.publish('p1.out', 'a', 'id-1', headers());
      const again = await p.publish('p1.out', 'a', 'id-1', headers());
      assert.deepEqual([first.duplicate, again.duplicate, again.seq], [false, true, first.seq]);
      assert.equal((await stored('p1.out')).length, 1);
    } finally {
      p.close();
    }
  });

  it('rejects a publish to a subject no stream captures', async () => {
    const p = publisher();
    try {
      await assert.rejects(p.publish('p2.nowhere', 'a', 'id-1', headers()), (error) => {
        return error instanceof StreamPublishError && /no JetStream stream captures/.test(error.message);
      });
    } finally {
      p.close();
    }
  });

  it('rejects a publish whose PubAck does not come in time', async () => {
    // A plain subscriber takes the message and never answers.
    const silent = nc.subscribe('p3.silent', { callback: () => {} });
    const p = publisher(200);
    try {
      await assert.rejects(p.publish('p3.silent', 'a', 'id-1', headers()), /no PubAck within 200 ms/);
    } finally {
      p.close();
      silent.unsubscribe();
    }
  });
});
