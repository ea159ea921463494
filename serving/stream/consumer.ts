import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { EngineChoice } from '../engines';
import { RequestError } from '../errors';
import { outputOf, shownOutput } from '../output';
import { PredictionLog, type PredictionLogOptions } from '../prediction-log';
import { ServedModel, type LoadedVersion } from '../served-model';
import type { ServingSource } from '../source';
import { parseEvent, StreamEventError } from './event';
import { JetStreamPublisher, Outbox } from './publisher';
import { Slots } from './slots';
import { durableNameFor, ensureDurable, ensureStream, StreamSetupError } from './topology';

// `kiln stream`: events from a JetStream subject scored by a served alias's current version (the
// model server's ServedModel: alias moves, canary and shadow alike), each answer published to
// another subject and logged, then acknowledged. Delivery is at-least-once, so every effect of an
// event is idempotent by its request id, which is its place in the input stream: the answer is
// published with that id as Nats-Msg-Id (the output stream drops a repeat), and the log write
// skips rows it already has (store.serving.recordPredictionsOnce, through streamSource).

export interface StreamScoringOptions {
  connection: NatsConnection;
  /** Where versions and routing come from; its writePredictions must skip rows already logged (streamSource). */
  source: ServingSource;
  model: string;
  alias: string;
  /** The subject events are read from; a stream must capture it (one is created when none does). */
  from: string;
  /** The subject predictions are published to. */
  to: string;
  /** Where events that fail validation go, with the reason in headers; default `<from>.dead`. */
  deadLetter?: string;
  /** The durable consumer's name; default `kiln-stream-<model>-<alias>`. */
  durable?: string;
  /** Events being scored, published and logged at once, at most; default 256. */
  maxInFlight?: number;
  /** Events pulled per request to the server; default min(maxInFlight, 128). */
  batch?: number;
  /** How long an unacknowledged event waits before JetStream redelivers it; default 30 s. */
  ackWaitMs?: number;
  /** How often the store is asked where the alias points; default 1000 ms. */
  pollMs?: number;
  engine?: EngineChoice;
  /** A binary model predicts its positive class at or above this probability; default 0.5. */
  threshold?: number;
  /** Most rows in one event (`{ "rows": [...] }`); default 1000. */
  maxRows?: number;
  /** The prediction log's batching and masking (every event is logged). */
  log?: Omit<PredictionLogOptions, 'sample'> & { sensitive?: string[] };
  /** How long a publish waits for JetStream's acknowledgement; default 5000 ms. */
  publishTimeoutMs?: number;
  /** After a fault (publish or log failed), the event is redelivered after this long; default 1000 ms. */
  retryDelayMs?: number;
  /** Reports faults; default console.error. The stream goes on. */
  onError?: (error: unknown, context: string) => void;
  /** Test seam: what to do instead of the ack once an event is handled (`skip`: as if the ack were lost). */
  beforeAck?: (event: { requestId: string; seq: number; deliveries: number }) => 'ack' | 'nak' | 'skip';
}

export interface StreamCounts {
  /** Deliveries taken from the server, redeliveries included. */
  received: number;
  /** Events scored, published and logged. */
  scored: number;
  /** Predictions the output stream stored (a redelivery's repeat is not counted). */
  published: number;
  /** Publishes the output stream dropped as repeats of one it had (by Nats-Msg-Id). */
  duplicates: number;
  /** Events sent to the dead-letter subject. */
  dead: number;
  /** Events handed back for redelivery after a fault. */
  retried: number;
}

export interface StreamScorer {
  readonly served: ServedModel;
  readonly counts: Readonly<StreamCounts>;
  /** The input stream and the durable consumer on it. */
  readonly stream: string;
  readonly durable: string;
  readonly deadLetter: string;
  /** Stops pulling, finishes the events in flight (up to `timeoutMs`, default 30 s), writes the log, unloads. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** The headers Kiln sets on what it publishes. */
export const STREAM_HEADERS = {
  requestId: 'Kiln-Request-Id',
  version: 'Kiln-Model-Version',
  route: 'Kiln-Route',
  sourceSubject: 'Kiln-Source-Subject',
  sourceStream: 'Kiln-Source-Stream',
  sourceSequence: 'Kiln-Source-Sequence',
  sourceMsgId: 'Kiln-Source-Msg-Id',
  deadCode: 'Kiln-Dead-Code',
  deadReason: 'Kiln-Dead-Reason',
  deadRow: 'Kiln-Dead-Row',
  deadField: 'Kiln-Dead-Field',
} as const;

/** True when a message on `subject` matches `pattern` (NATS tokens: `*` one, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && s[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

interface Waiter {
  rows: number;
  done: () => void;
}

/**
 * Starts scoring `from` into `to` with `model@alias`; resolves once the model is loaded and the
 * consumer is pulling.
 * @example
 * const scorer = await startStreamScoring({ connection, source: streamSource(store, artifacts, actor),
 *   model: 'credit-risk', alias: 'production', from: 'credit.applications', to: 'credit.scores' });
 * // ... later
 * await scorer.stop();
 */
export async function startStreamScoring(options: StreamScoringOptions): Promise<StreamScorer> {
  const { connection, model, alias, from, to } = options;
  const deadLetter = options.deadLetter ?? `${from}.dead`;
  const maxInFlight = options.maxInFlight ?? 256;
  const batch = options.batch ?? Math.min(maxInFlight, 128);
  const threshold = options.threshold ?? 0.5;
  const publishTimeout = options.publishTimeoutMs ?? 5000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const onError = options.onError ?? ((error, context) => console.error(`kiln stream: ${context}:`, error));
  const durable = options.durable ?? durableNameFor(model, alias);
  if (!(Number.isInteger(maxInFlight) && maxInFlight > 0))
    throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  for (const out of [to, deadLetter]) {
    if (/[*>]/.test(out)) throw new StreamSetupError(out, 'a subject published to cannot hold wildcards');
    // Answers read back as events would be scored again, forever.
    if (subjectMatches(from, out))
      throw new StreamSetupError(out, `the input subject '${from}' matches it: publish to a subject outside it`);
  }

  const jsm = await jetstreamManager(connection);
  const js = jetstream(connection);
  const stream = await ensureStream(jsm, from);
  await ensureStream(jsm, to);
  await ensureStream(jsm, deadLetter);
  // A stream deleted and created again numbers from 1: its creation time keeps the ids apart.
  const created = Date.parse((await jsm.streams.info(stream)).created);
  await ensureDurable(jsm, {
    stream,
    durable,
    subject: from,
    // Above what is handled at once plus a pull: the server never refuses a pull for unacked events
    // (a spin of 409s), and the client holds at most this many; `Slots` bounds the work.
    maxAckPending: maxInFlight + 2 * batch,
    ackWaitMs: options.ackWaitMs ?? 30_000,
  });

  const served = new ServedModel(model, alias, options.source, {
    engine: options.engine ?? 'auto',
    maxRows: options.maxRows ?? 1000,
  });
  await served.refresh();

  // Answers, dead letters and acks leave in bursts (one socket write each), published without js.publish's per-call cost.
  const outbox = new Outbox((error) =>
    onError(error, 'publishing or acknowledging (JetStream redelivers what was not acked)'),
  );
  const publisher = new JetStreamPublisher(connection, outbox, publishTimeout);

  const counts: StreamCounts = { received: 0, scored: 0, published: 0, duplicates: 0, dead: 0, retried: 0 };
  const sensitive: ReadonlySet<string> = new Set(options.log?.sensitive ?? []);
  const waiters = new Map<string, Waiter>();
  const log = new PredictionLog(
    async (records) => {
      await options.source.writePredictions(records);
      const written = new Map<string, number>();
      for (const r of records) written.set(r.requestId, (written.get(r.requestId) ?? 0) + 1);
      for (const [id, n] of written) {
        const waiter = waiters.get(id);
        if (!waiter) continue;
        waiter.rows -= n;
        if (waiter.rows <= 0) {
          waiters.delete(id);
          waiter.done();
        }
      }
    },
    {
      written: () => {},
      // Never with the default bound (far above what maxInFlight events hold); the events stay unacked and come back.
      dropped: (n) => onError(new Error(`${n} rows over the log's pending limit`), 'prediction log'),
      failed: (n, error) => onError(error, `writing ${n} prediction log rows (kept for the next write)`),
    },
    {
      batchSize: options.log?.batchSize ?? Math.max(1, Math.min(1000, Math.floor(maxInFlight / 2))),
      flushMs: options.log?.flushMs ?? 20,
      // The write skips rows logged already (recordPredictionsOnce), so batches may overlap.
      writers: options.log?.writers ?? 2,
      maxPending: options.log?.maxPending ?? 1_000_000,
      ...(options.log?.hashKey === undefined ? {} : { hashKey: options.log.hashKey }),
    },
  );
  const logged = (requestId: string, rows: number) =>
    new Promise<void>((done) => {
      waiters.set(requestId, { rows, done });
    });

  async function score(version: LoadedVersion, rows: Record<string, unknown>[]) {
    const started = performance.now();
    const raw = await version.predictor.predict(rows);
    const latencyMs = performance.now() - started;
    return { outputs: raw.map((p) => outputOf(version.predictor.signature, p, threshold)), latencyMs };
  }

  async function sendToDeadLetter(m: JsMsg, requestId: string, error: RequestError | StreamEventError) {
    const h = headers();
    const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
    h.set(STREAM_HEADERS.deadCode, error.code);
    h.set(STREAM_HEADERS.deadReason, oneLine(error.message));
    if (error instanceof RequestError) {
      if (error.where.row !== undefined) h.set(STREAM_HEADERS.deadRow, String(error.where.row));
      if (error.where.field !== undefined) h.set(STREAM_HEADERS.deadField, oneLine(error.where.field));
    }
    setSource(h, m, requestId);
    await publisher.publish(deadLetter, m.data, `${model}:${requestId}:dead`, h);
    counts.dead++;
  }

  function setSource(h: ReturnType<typeof headers>, m: JsMsg, requestId: string) {
    h.set(STREAM_HEADERS.requestId, requestId);
    h.set(STREAM_HEADERS.sourceSubject, m.subject);
    h.set(STREAM_HEADERS.sourceStream, m.info.stream);
    h.set(STREAM_HEADERS.sourceSequence, String(m.seq));
    const msgId = m.headers?.get('Nats-Msg-Id');
    if (msgId) h.set(STREAM_HEADERS.sourceMsgId, msgId);
  }

  /** Scores, logs and publishes one event, or dead-letters it; throws on a fault (the event is retried). */
  async function handle(m: JsMsg, requestId: string): Promise<void> {
    let body: unknown;
    try {
      body = parseEvent(m.data);
    } catch (error) {
      if (error instanceof StreamEventError) return sendToDeadLetter(m, requestId, error);
      throw error;
    }
    const current = served.validator;
    if (!current) throw new Error(`model '${model}' is not loaded`);
    let parsed: { rows: Record<string, unknown>[]; batch: boolean };
    try {
      parsed = current.validate(body);
    } catch (error) {
      if (error instanceof RequestError) return sendToDeadLetter(m, requestId, error);
      throw error;
    }
    const { rows, batch: many } = parsed;
    const pick = served.pick();
    try {
      const { target, route, shadow } = pick;
      let scored: Awaited<ReturnType<typeof score>>;
      try {
        if (target.signatureKey !== current.signatureKey) target.validate(many ? { rows } : rows[0]);
        scored = await score(target, rows);
      } catch (error) {
        // The transform is the last word on values (an unseen category): the same refusal as a 400.
        if (error instanceof RequestError) return sendToDeadLetter(m, requestId, error);
        throw error;
      }
      const mirrored = shadow
        ? await score(shadow, rows).catch((error: unknown) => {
            onError(error, `shadow of ${model} v${shadow.version} on event ${requestId}`);
            return undefined;
          })
        : undefined;
      const inLog = logged(requestId, rows.length * (mirrored ? 2 : 1));
      const at = new Date();
      const entry = { requestId, model, at, rows, sensitive };
      log.add({
        ...entry,
        version: target.version,
        route,
        served: true,
        outputs: scored.outputs,
        latencyMs: scored.latencyMs,
      });
      if (shadow && mirrored)
        log.add({ ...entry, version: shadow.version, route: 'shadow', served: false, ...mirrored });
      const signature = target.predictor.signature;
      const shown = scored.outputs.map((o) => shownOutput(signature, o));
      const answer = { requestId, model, version: target.version, ...(many ? { predictions: shown } : shown[0]) };
      const h = headers();
      setSource(h, m, requestId);
      h.set(STREAM_HEADERS.version, String(target.version));
      h.set(STREAM_HEADERS.route, route);
      const ack = await publisher.publish(to, JSON.stringify(answer), `${model}:${requestId}`, h);
      if (ack.duplicate) counts.duplicates++;
      else counts.published++;
      await inLog;
      counts.scored++;
    } finally {
      pick.release();
    }
  }

  const inflight = new Map<string, Promise<void>>();
  async function deliver(m: JsMsg): Promise<void> {
    counts.received++;
    const requestId = `${stream}:${created}:${m.seq}`;
    // A redelivery while the first delivery is still at work (its ack wait ran out): that one finishes it.
    const running = inflight.get(requestId);
    if (running) {
      await running;
      outbox.add(() => m.ack());
      return;
    }
    const work = handle(m, requestId).then(
      () => {
        const action = options.beforeAck?.({ requestId, seq: m.seq, deliveries: m.info.deliveryCount }) ?? 'ack';
        if (action === 'ack') outbox.add(() => m.ack());
        else if (action === 'nak') m.nak();
      },
      (error: unknown) => {
        counts.retried++;
        onError(error, `event ${requestId} on '${m.subject}' (redelivered in ${retryDelayMs} ms)`);
        m.nak(retryDelayMs);
      },
    );
    inflight.set(requestId, work);
    try {
      await work;
    } finally {
      inflight.delete(requestId);
    }
  }

  let stopping = false;
  let messages: Awaited<ReturnType<Awaited<ReturnType<typeof js.consumers.get>>['consume']>> | undefined;
  const slots = new Slots(maxInFlight);
  const loop = (async () => {
    while (!stopping) {
      try {
        const consumer = await js.consumers.get(stream, durable);
        messages = await consumer.consume({ max_messages: batch });
        if (stopping) await messages.close();
        for await (const m of messages) {
          await slots.acquire();
          void deliver(m).finally(() => slots.release());
        }
        // The server ended the pull (the consumer was deleted): a pause before asking again.
        if (!stopping) await new Promise((r) => setTimeout(r, retryDelayMs));
      } catch (error) {
        if (stopping) break;
        onError(error, `consuming '${from}' (retrying in ${retryDelayMs} ms)`);
        await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
  })();

  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    timer = setTimeout(async () => {
      await served
        .refresh()
        .catch((error: unknown) => onError(error, `refreshing ${model}@${alias} (scoring with what is loaded)`));
      if (!stopping) poll();
    }, options.pollMs ?? 1000);
    timer.unref();
  };
  poll();

  return {
    served,
    counts,
    stream,
    durable,
    deadLetter,
    async stop(stopOptions = {}) {
      stopping = true;
      clearTimeout(timer);
      await messages?.close();
      await loop;
      const timeoutMs = stopOptions.timeoutMs ?? 30_000;
      let timeout: NodeJS.Timeout | undefined;
      // Events still unfinished at the deadline are left unacked: JetStream delivers them again.
      await Promise.race([
        slots.idle(),
        new Promise((r) => {
          timeout = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timeout);
      outbox.flush();
      await log.close();
      publisher.close();
      await served.close();
    },
  };
}
