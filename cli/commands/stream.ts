import { parseArgs } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { ArtifactStore } from '../../activities/artifacts/store';
import { sensitiveTrainingColumns } from '../../serving/training-tags';
import { parseTarget, type EngineChoice } from '../../serving';
import { startStreamScoring, streamSource } from '../../serving/stream';
import { StoreSharedError } from '../../store';
import { loadConfig } from '../../runtime/config';
import { caller, openKilnStore } from '../store';

export const help = `kiln stream <name@alias> --from <subject> --to <subject> [options]
  Scores events from a NATS JetStream subject with the alias's current version (following alias
  moves and traffic splits, as kiln serve does), publishes each prediction to --to and logs it,
  until SIGINT/SIGTERM. An event is one row ({ "age": 35, ... }) or { "rows": [ ... ] }.
  Delivery is at-least-once and idempotent: a redelivered event is published (Nats-Msg-Id) and
  logged once. A stream is created for a subject no stream captures.
  --dead-letter S    where events that fail validation go, with Kiln-Dead-Code and
                     Kiln-Dead-Reason headers (default <from>.dead)
  --nats URL         the NATS server (default $NATS_URL, else nats://127.0.0.1:4222)
  --durable NAME     the durable consumer (default kiln-stream-<name>-<alias>)
  --max-in-flight N  events being handled at once, at most (default 256)
  --ack-wait-ms MS   an unacknowledged event is redelivered after this long (default 30000)
  --poll-ms MS       how often the store is asked where the alias points (default 1000)
  --engine auto|kiln|onnx  how versions run (auto: the faster for the model's kind)
  --sensitive a,b    fields logged only as keyed hashes (key: KILN_LOG_HASH_KEY), besides the columns
                     tagged sensitive in the model's training data, which always are
  --token TOKEN      act as this token's principal (viewer role or above)`;

const count = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got '${text}'`);
  return value;
};

export async function stream(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      'dead-letter': { type: 'string' },
      nats: { type: 'string' },
      durable: { type: 'string' },
      'max-in-flight': { type: 'string' },
      'ack-wait-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      engine: { type: 'string', default: 'auto' },
      sensitive: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || !values.from || !values.to)
    throw new Error(
      `name one model alias, --from and --to: kiln stream credit-risk@production --from credit.applications --to credit.scores`,
    );
  if (!['auto', 'kiln', 'onnx'].includes(values.engine))
    throw new Error(`--engine is auto, kiln or onnx; got '${values.engine}'`);
  const target = parseTarget(positionals[0]!);
  const servers = values.nats ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const config = loadConfig();
  const store = await openKilnStore(config, { share: true }).catch((error: unknown) => {
    if (error instanceof StoreSharedError) return openKilnStore(config);
    throw error;
  });
  try {
    const actor = await caller(store, config, print, values.token);
    const connection = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 500 }).catch(
      (error: unknown) => {
        throw new Error(`cannot reach NATS at ${servers}: start nats-server -js, or pass --nats / set NATS_URL`, {
          cause: error,
        });
      },
    );
    try {
      const maxInFlight = count('max-in-flight', values['max-in-flight']);
      const ackWaitMs = count('ack-wait-ms', values['ack-wait-ms']);
      const pollMs = count('poll-ms', values['poll-ms']);
      const artifacts = new ArtifactStore(config.artifactsDir);
      const tagged = await sensitiveTrainingColumns(store, artifacts, actor, target.name);
      if (tagged.length > 0)
        print(`${target.name}: logging ${tagged.join(', ')} as keyed hashes (tagged sensitive in its training data)`);
      const scorer = await startStreamScoring({
        connection,
        source: streamSource(store, artifacts, actor),
        model: target.name,
        alias: target.alias,
        from: values.from,
        to: values.to,
        engine: values.engine as EngineChoice,
        log: { sensitive: [...(values.sensitive?.split(',').filter(Boolean) ?? []), ...tagged] },
        ...(values['dead-letter'] ? { deadLetter: values['dead-letter'] } : {}),
        ...(values.durable ? { durable: values.durable } : {}),
        ...(maxInFlight ? { maxInFlight } : {}),
        ...(ackWaitMs ? { ackWaitMs } : {}),
        ...(pollMs ? { pollMs } : {}),
      });
      print(
        `Scoring ${values.from} → ${values.to} with ${target.name}@${target.alias} v${scorer.served.state.current} ` +
          `(stream ${scorer.stream}, consumer ${scorer.durable}, dead letters to ${scorer.deadLetter}). Ctrl-C stops it.`,
      );
      await new Promise<void>((stop) => {
        process.once('SIGINT', () => stop());
        process.once('SIGTERM', () => stop());
      });
      await scorer.stop();
      const c = scorer.counts;
      print(
        `Stopped: ${c.scored} scored, ${c.published} published (${c.duplicates} repeats dropped), ${c.dead} dead-lettered, ${c.retried} retried.`,
      );
    } finally {
      await connection.close();
    }
  } finally {
    await store.close();
  }
  return 0;
}
