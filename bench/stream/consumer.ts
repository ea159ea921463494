import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { ArtifactStore } from '../../activities/artifacts/store';
import { startStreamScoring, streamNameFor, streamSource } from '../../serving/stream';
import { Slots } from '../../serving/stream/slots';
import { openStore } from '../../store';
import { SYSTEM } from '../../store/access';

// One consumer of the stream benchmark, in a process of its own (bench/stream/stream.ts starts it):
//   floor:   JetStream pull consume → plain publish of an empty answer → ack (no scoring, no log)
//   relay:   the same with a JetStream publish (Nats-Msg-Id) of the answer: the output side of kiln stream
//   kiln:    kiln stream itself (startStreamScoring): validate, score, publish, log, ack
// Prints `ready` once pulling, and its counts as JSON on SIGTERM.

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    nats: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'max-in-flight': { type: 'string', default: '256' },
    'log-writers': { type: 'string', default: '2' },
    'log-batch': { type: 'string' },
    'database-url': { type: 'string' },
    artifacts: { type: 'string' },
  },
});
const { mode, from, to } = values as { mode: 'floor' | 'relay' | 'kiln'; from: string; to: string };
const maxInFlight = Number(values['max-in-flight']);
const nc = await connect({ servers: values.nats! });
/** CPU milliseconds this process spent since `ready` (user + system): the consumer's own cost, whatever the load. */
let cpuAtReady = process.cpuUsage();
const cpuMs = () => {
  const used = process.cpuUsage(cpuAtReady);
  return Math.round((used.user + used.system) / 1000);
};
const stopped = new Promise<void>((done) => process.once('SIGTERM', () => done()));

if (mode === 'kiln') {
  // With PostgreSQL the parent has trained and registered the model: this process loads no TensorFlow.
  const artifacts = values.artifacts ? new ArtifactStore(values.artifacts) : undefined;
  const ctx = artifacts ? undefined : await (await import('../../test/support/step-context')).testContext();
  const store = await openStore(values['database-url'] ? { url: values['database-url'] } : { dir: 'memory://' });
  if (ctx) {
    const { register, trainCreditModel } = await import('../../test/serving/credit-model');
    const credit = await trainCreditModel(ctx);
    await register(ctx, store, credit.model, 'credit-risk', 'production');
  }
  const scorer = await startStreamScoring({
    connection: nc,
    source: streamSource(store, artifacts ?? ctx!.artifacts, SYSTEM),
    model: 'credit-risk',
    alias: 'production',
    from,
    to,
    maxInFlight,
    log: {
      writers: Number(values['log-writers']),
      ...(values['log-batch'] ? { batchSize: Number(values['log-batch']) } : {}),
    },
  });
  cpuAtReady = process.cpuUsage();
  console.log('ready');
  await stopped;
  const cpu = cpuMs();
  await scorer.stop();
  const logged = await store.serving.listPredictions(SYSTEM, { model: 'credit-risk', limit: 1_000_000 });
  console.log(JSON.stringify({ ...scorer.counts, logged: logged.length, cpuMs: cpu }));
  await store.close();
  await ctx?.dispose();
} else {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streamNameFor(from), `bench-${mode}`);
  const messages = await consumer.consume({ max_messages: Math.min(maxInFlight, 128) });
  cpuAtReady = process.cpuUsage();
  console.log('ready');
  let handled = 0;
  const answer = JSON.stringify({ model: 'none', version: 0, label: 'none', probabilities: {} });
  void stopped.then(() => messages.close());
  // The relay's publishes in flight are bounded as kiln stream's are.
  const slots = new Slots(maxInFlight);
  for await (const m of messages) {
    const h = headers();
    h.set('Kiln-Source-Sequence', String(m.seq));
    if (mode === 'floor') {
      nc.publish(to, answer, { headers: h });
      m.ack();
      handled++;
      continue;
    }
    await slots.acquire();
    void js
      .publish(to, answer, { msgID: `relay:${m.seq}`, headers: h })
      .then(() => {
        m.ack();
        handled++;
      })
      .finally(() => slots.release());
  }
  await slots.idle();
  console.log(JSON.stringify({ handled, cpuMs: cpuMs() }));
}
await nc.drain();
