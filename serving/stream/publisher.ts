import { JetStreamApiError, type ApiError, type PubAck } from '@nats-io/jetstream';
import { createInbox, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';

// kiln stream's JetStream publishes, made without the client's js.publish: that one is a request
// with a stack-captured error object, a timer and a second error ("cancelled") per call, a third of
// the consumer's CPU per event in a profile. Here every publish carries its reply subject under one
// wildcard subscription, PubAcks are matched by token, and one sweep times out the late ones.
// Publishes and acks wait in an Outbox for the event loop's next turn, so the client writes the
// answers and acks of a whole burst to its socket at once instead of one write per event.

/** A publish JetStream did not confirm: no stream captures the subject, it refused it, or no PubAck in time. */
export class StreamPublishError extends Error {
  constructor(
    readonly subject: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`publishing to '${subject}': ${message}`, options);
    this.name = 'StreamPublishError';
  }
}

/** Calls held until the event loop's next turn, then made together (the NATS client coalesces their writes). */
export class Outbox {
  private calls: Array<() => void> = [];

  /** `onError` hears of a call that threw (a closed connection); the calls after it are still made. */
  constructor(private readonly onError: (error: unknown) => void) {}

  add(call: () => void): void {
    if (this.calls.length === 0) setImmediate(this.flush);
    this.calls.push(call);
  }

  /** Makes every held call now. */
  readonly flush = (): void => {
    const calls = this.calls;
    this.calls = [];
    for (const call of calls)
      try {
        call();
      } catch (error) {
        this.onError(error);
      }
  };
}

interface Waiting {
  subject: string;
  deadline: number;
  resolve: (ack: PubAck) => void;
  reject: (error: Error) => void;
}

const decoder = new TextDecoder();

export class JetStreamPublisher {
  private readonly inbox: string;
  private readonly subscription: Subscription;
  private readonly waiting = new Map<string, Waiting>();
  private readonly sweep: NodeJS.Timeout;
  private next = 0;

  constructor(
    private readonly connection: NatsConnection,
    private readonly outbox: Outbox,
    private readonly timeoutMs: number,
  ) {
    // Under the connection's inbox prefix, as js.publish's replies are: permissions may allow only that one.
    this.inbox = createInbox((connection as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.subscription = connection.subscribe(`${this.inbox}.*`, {
      callback: (error, m) => {
        // The subscription failed (a permission refused): no PubAck can come for what is waiting.
        if (error) return this.failAll(`the PubAck subscription on '${this.inbox}.*' failed: ${error.message}`, error);
        const token = m.subject.slice(this.inbox.length + 1);
        const waiting = this.waiting.get(token);
        if (!waiting) return;
        this.waiting.delete(token);
        // A 503 status with no body: no stream captures the subject (the server's "no responders").
        if (m.data.length === 0 && m.headers?.code === 503)
          return waiting.reject(new StreamPublishError(waiting.subject, 'no JetStream stream captures this subject'));
        let reply: Partial<PubAck> & { error?: ApiError };
        try {
          reply = JSON.parse(decoder.decode(m.data)) as typeof reply;
        } catch (cause) {
          return waiting.reject(new StreamPublishError(waiting.subject, 'the PubAck is not JSON', { cause }));
        }
        if (reply.error)
          return waiting.reject(
            new StreamPublishError(waiting.subject, reply.error.description, {
              cause: new JetStreamApiError(reply.error),
            }),
          );
        if (!reply.stream) return waiting.reject(new StreamPublishError(waiting.subject, 'the PubAck names no stream'));
        waiting.resolve({ stream: reply.stream, seq: reply.seq ?? 0, duplicate: reply.duplicate ?? false });
      },
    });
    // Deadlines grow in insertion order, so a sweep stops at the first one still running.
    this.sweep = setInterval(
      () => {
        const now = performance.now();
        for (const [token, waiting] of this.waiting) {
          if (waiting.deadline > now) break;
          this.waiting.delete(token);
          waiting.reject(new StreamPublishError(waiting.subject, `no PubAck within ${this.timeoutMs} ms`));
        }
      },
      Math.max(10, Math.min(250, this.timeoutMs / 4)),
    );
    this.sweep.unref();
  }

  /** Publishes to JetStream with `msgId` as Nats-Msg-Id (the stream drops a repeat); resolves with the PubAck. */
  publish(subject: string, data: string | Uint8Array, msgId: string, headers: MsgHdrs): Promise<PubAck> {
    headers.set('Nats-Msg-Id', msgId);
    const token = String(this.next++);
    return new Promise((resolve, reject) => {
      this.waiting.set(token, { subject, deadline: performance.now() + this.timeoutMs, resolve, reject });
      this.outbox.add(() => {
        try {
          this.connection.publish(subject, data, { reply: `${this.inbox}.${token}`, headers });
        } catch (cause) {
          this.waiting.delete(token);
          reject(new StreamPublishError(subject, (cause as Error).message, { cause }));
        }
      });
    });
  }

  /** Stops listening for PubAcks; publishes still waiting fail. */
  close(): void {
    clearInterval(this.sweep);
    this.subscription.unsubscribe();
    this.failAll('the publisher was closed before its PubAck');
  }

  private failAll(message: string, cause?: unknown): void {
    for (const waiting of this.waiting.values())
      waiting.reject(new StreamPublishError(waiting.subject, message, cause === undefined ? {} : { cause }));
    this.waiting.clear();
  }
}
