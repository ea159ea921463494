import { AckPolicy, DeliverPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

// The JetStream side of `kiln stream`: a stream behind every subject it reads or writes (found, or
// created when none captures the subject), and one durable pull consumer per served alias.

/** A subject a stream consumer uses that JetStream cannot serve: names the subject and the fix. */
export class StreamSetupError extends Error {
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`subject '${subject}': ${message}`, options);
    this.name = 'StreamSetupError';
  }
}

/** A stream name for a subject Kiln creates a stream for: `credit.in` → `KILN_credit_in`. */
export const streamNameFor = (subject: string) => `KILN_${subject.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** A durable consumer name for a served alias: `credit-risk@production` → `kiln-stream-credit-risk-production`. */
export const durableNameFor = (model: string, alias: string) =>
  `kiln-stream-${model}-${alias}`.replace(/[^A-Za-z0-9_-]/g, '_');

/** The stream that captures `subject`; one is created (file storage) when none does. */
export async function ensureStream(jsm: JetStreamManager, subject: string): Promise<string> {
  const found = await jsm.streams.find(subject).catch(() => undefined);
  if (found) return found;
  if (/[*>]/.test(subject))
    throw new StreamSetupError(subject, 'no stream captures this wildcard; create one for it (nats stream add)');
  const name = streamNameFor(subject);
  try {
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File });
  } catch (error) {
    // Another consumer starting beside this one created it first.
    const again = await jsm.streams.find(subject).catch(() => undefined);
    if (again) return again;
    throw new StreamSetupError(subject, `could not create stream '${name}' for it: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return name;
}

export interface DurableOptions {
  stream: string;
  durable: string;
  subject: string;
  /** Unacknowledged events the server hands out at most: the bound on work in flight. */
  maxAckPending: number;
  /** How long an unacknowledged event waits before it is redelivered. */
  ackWaitMs: number;
}

/** The durable explicit-ack pull consumer; an existing one keeps its position and takes the new limits. */
export async function ensureDurable(jsm: JetStreamManager, options: DurableOptions): Promise<void> {
  const limits = { ack_wait: nanos(options.ackWaitMs), max_ack_pending: options.maxAckPending };
  const existing = await jsm.consumers.info(options.stream, options.durable).catch(() => undefined);
  if (existing) {
    if (existing.config.filter_subject !== undefined && existing.config.filter_subject !== options.subject)
      throw new StreamSetupError(
        options.subject,
        `consumer '${options.durable}' on stream '${options.stream}' reads '${existing.config.filter_subject}'; delete it or pass another --durable`,
      );
    await jsm.consumers.update(options.stream, options.durable, limits);
    return;
  }
  await jsm.consumers.add(options.stream, {
    durable_name: options.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: options.subject,
    ...limits,
  });
}
