import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

// PGlite is one Postgres session. Serving it to many connections is safe only if one connection
// at a time owns that session from its first message until Postgres reports the session idle
// again (ReadyForQuery with transaction status 'I'): then an extended-protocol sequence
// (Parse/Bind/Describe/Execute/Sync, pipelined or not) and a whole BEGIN..COMMIT stay together.
// Other connections wait their turn in arrival order. pglite-socket 0.2.17 queues single messages
// instead, so a Parse from one connection could land between another's Parse and Bind.

/** Postgres wire protocol (v3) codes this server reads; see the "Message Formats" chapter of the Postgres docs. */
const PROTOCOL_3 = 196608;
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const STARTUP = 0; // the startup message has no type byte; this server files it under 0
const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'
const FUNCTION_CALL = 0x46; // 'F'
const TERMINATE = 0x58; // 'X'
const READY_FOR_QUERY = 0x5a; // 'Z'
/** Messages Postgres answers with ReadyForQuery: after one, the session may be idle again. */
const SYNC_POINTS = new Set([STARTUP, QUERY, SYNC, FUNCTION_CALL]);
/** PGlite's largest message buffer. */
const MAX_MESSAGE = 2 ** 30;
/** A waiting connection stops being read past this many buffered bytes, until its turn drains them. */
const HIGH_WATER = 4 * 1024 * 1024;

export interface PgliteServerOptions {
  /** How long a connection may wait for its turn before it is refused with an error; default 60 s. */
  waitMs?: number;
  /** How long the connection whose turn it is may stay silent mid-transaction before it is dropped; default 30 s. */
  idleMs?: number;
  /** Open connections at most; default 256. */
  maxConnections?: number;
  /** Where failures that no client can be told about go (a reset that failed); default console.error. */
  onError?: (error: Error) => void;
}

/** One message as the client framed it: the type byte (STARTUP for the startup message) and all its bytes. */
interface Message {
  type: number;
  bytes: Buffer;
}

interface Connection {
  id: number;
  socket: Socket;
  /** Bytes received and not yet split into whole messages. */
  input: Buffer;
  /** Whole messages waiting for this connection's turn. */
  messages: Message[];
  buffered: number;
  started: boolean;
  /** The session is idle as far as this connection goes: the last thing it sent was answered with status 'I'. */
  idle: boolean;
  /** It ran something, so the session may carry its settings, temp tables or named statements. */
  touched: boolean;
  closed: boolean;
  queued: boolean;
  waitTimer?: NodeJS.Timeout;
  /** Set while its turn waits for more input, a drained socket, or its end. */
  wake?: () => void;
}

const int32 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
};
const message = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type]), int32(4 + body.length), body]);
const query = (sql: string) => message(QUERY, Buffer.from(`${sql}\0`));
const SYNC_MESSAGE = message(SYNC, Buffer.alloc(0));
const fatal = (code: string, text: string) =>
  message(0x45 /* 'E' */, Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`));

/**
 * The transaction status of the last ReadyForQuery among backend messages (each a type byte and
 * an int32 length that counts itself): 'I' idle, 'T' in a transaction, 'E' in a failed one.
 */
export function lastReadyStatus(out: Uint8Array): string | undefined {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let status: string | undefined;
  for (let at = 0; at + 5 <= out.length;) {
    const length = view.getInt32(at + 1);
    if (length < 4) break;
    if (out[at] === READY_FOR_QUERY && at + 6 <= out.length) status = String.fromCharCode(out[at + 5]!);
    at += 1 + length;
  }
  return status;
}

/**
 * Serves one PGlite database on a Unix socket (or any path `net.Server.listen` takes) to many
 * Postgres clients, giving each connection the session to itself from its first message until
 * the session is idle again; the others wait in a FIFO queue, for at most `waitMs`.
 *
 * What one connection leaves behind is cleared when it closes: an open transaction is rolled back
 * and `DISCARD ALL` resets settings, temp tables and prepared statements. While connections are
 * open they share the session, so a named prepared statement or a plain `SET` of one is seen by
 * all: clients should use unnamed statements and `SET LOCAL`.
 * @example const server = await servePglite(db, '/run/kiln/.s.PGSQL.5432'); ... await server.stop();
 */
export async function servePglite(db: PGlite, path: string, options: PgliteServerOptions = {}) {
  const waitMs = options.waitMs ?? 60_000;
  const idleMs = options.idleMs ?? 30_000;
  const maxConnections = options.maxConnections ?? 256;
  const onError = options.onError ?? ((error: Error) => console.error(error));
  await db.waitReady;

  const connections = new Set<Connection>();
  const queue: Connection[] = [];
  let holder: Connection | undefined;
  let turn: Promise<void> = Promise.resolve();
  let stopping = false;
  let nextId = 1;

  const exec = (bytes: Uint8Array) => db.runExclusive(() => db.execProtocolRaw(bytes));

  /** Ends a connection with a FATAL error it can read, and forgets what it sent. */
  function refuse(c: Connection, code: string, text: string) {
    if (!c.closed) c.socket.end(fatal(code, text), () => c.socket.destroy());
    closed(c);
  }

  function closed(c: Connection) {
    if (c.closed) return;
    c.closed = true;
    c.messages = [];
    c.input = Buffer.alloc(0);
    connections.delete(c);
    clearTimeout(c.waitTimer);
    c.wake?.();
    // Its session state is cleared in a turn of its own; waiting or holding, it has one coming.
    if (!stopping && c !== holder && !c.queued && c.touched) enqueue(c);
  }

  function enqueue(c: Connection) {
    c.queued = true;
    queue.push(c);
    if (!c.closed)
      c.waitTimer = setTimeout(() => {
        queue.splice(queue.indexOf(c), 1);
        c.queued = false;
        refuse(
          c,
          '55P03',
          `waited ${waitMs} ms for the shared PGlite store, which serves one transaction at a time and is busy (connection ${holder?.id ?? '?'} holds it, ${queue.length} wait); shorten long transactions, or set DATABASE_URL to a PostgreSQL server`,
        );
      }, waitMs);
    pump();
  }

  /** Called when a connection has something new: its turn continues, or it joins the queue. */
  function wants(c: Connection) {
    if (c === holder) c.wake?.();
    else if (!c.queued && (c.messages.length > 0 || (c.closed && c.touched))) enqueue(c);
  }

  function pump() {
    if (holder || stopping) return;
    const next = queue.shift();
    if (!next) return;
    clearTimeout(next.waitTimer);
    next.queued = false;
    holder = next;
    turn = hold(next)
      .catch((error: Error) => {
        onError(
          new Error(`the shared PGlite store failed serving connection ${next.id}: ${error.message}`, { cause: error }),
        );
        refuse(next, 'XX000', `the shared PGlite store failed: ${error.message}`);
      })
      .finally(() => {
        holder = undefined;
        if (!stopping) wants(next);
        pump();
      });
  }

  /** Resolves when the holder has more input, its socket drained, or it closed; drops it after `idleMs`. */
  const pause = (c: Connection) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(
        () =>
          refuse(
            c,
            '25P03',
            `connection ${c.id} held the shared PGlite store for ${idleMs} ms without sending anything mid-transaction; its transaction is rolled back`,
          ),
        idleMs,
      );
      c.wake = () => {
        clearTimeout(timer);
        c.wake = undefined;
        resolve();
      };
    });

  /** The messages up to and including the next sync point (all of them when none has come yet). */
  function nextBatch(c: Connection): { bytes: Buffer; sync: boolean } | 'terminate' | undefined {
    const taken: Buffer[] = [];
    let sync = false;
    while (c.messages.length > 0 && !sync) {
      if (c.messages[0]!.type === TERMINATE) {
        if (taken.length > 0) break;
        return 'terminate';
      }
      const m = c.messages.shift()!;
      taken.push(m.bytes);
      c.buffered -= m.bytes.length;
      sync = SYNC_POINTS.has(m.type);
    }
    if (c.socket.isPaused() && c.buffered < HIGH_WATER) c.socket.resume();
    return taken.length > 0 ? { bytes: Buffer.concat(taken), sync } : undefined;
  }

  /** One connection's turn: runs its messages until the session is idle and it has nothing more queued. */
  async function hold(c: Connection) {
    for (;;) {
      if (stopping) return;
      if (c.closed) return reset(c);
      if (c.socket.writableNeedDrain) {
        c.socket.once('drain', () => c.wake?.());
        await pause(c);
        continue;
      }
      const batch = nextBatch(c);
      if (batch === 'terminate') {
        c.socket.end();
        closed(c);
        continue;
      }
      if (!batch) {
        if (c.idle) return;
        await pause(c);
        continue;
      }
      c.touched = true;
      const out = await exec(batch.bytes);
      // A copy: the answer to a startup message is a view of PGlite's buffer, which the next call overwrites.
      if (!c.closed && out.length > 0) c.socket.write(Buffer.from(out));
      // A sync point answered with 'I': the turn may pass. Anything else (a transaction open or
      // failed, an extended sequence not yet synced, COPY waiting for data) keeps it.
      c.idle = batch.sync && lastReadyStatus(out) === 'I';
      // Idle with more queued (a pipelining client): to the back of the queue, so others get a turn.
      if (c.idle && c.messages.length > 0) return;
    }
  }

  /** Clears what a closed connection left in the session, so the next one starts clean. */
  async function reset(c: Connection) {
    if (!c.touched) return;
    c.touched = false;
    if (!c.idle) {
      // ROLLBACK aborts an explicit transaction or the implicit one of unsynced extended messages
      // (Postgres only warns "no transaction in progress" there, and rolls it back); Sync ends the
      // extended sequence. After an error Postgres skips everything up to Sync, the ROLLBACK too:
      // then the block is still failed ('E'), and a second ROLLBACK ends it.
      const out = await exec(Buffer.concat([query('ROLLBACK'), SYNC_MESSAGE]));
      if (lastReadyStatus(out) !== 'I') await exec(query('ROLLBACK'));
    }
    const out = await exec(query('DISCARD ALL'));
    if (lastReadyStatus(out) !== 'I')
      onError(new Error(`resetting the shared PGlite session after connection ${c.id} left it not idle`));
  }

  function receive(c: Connection, chunk: Buffer) {
    if (c.closed) return;
    c.input = c.input.length === 0 ? chunk : Buffer.concat([c.input, chunk]);
    // Framing: before the startup message, a message is an int32 length (counting itself) and an
    // int32 code; after it, a type byte and an int32 length that counts itself but not the type.
    for (;;) {
      const head = c.started ? 1 : 0;
      if (c.input.length < head + 4) break;
      const length = head + c.input.readInt32BE(head);
      if (length < head + 4 + (c.started ? 0 : 4) || length > MAX_MESSAGE)
        return refuse(c, '08P01', `invalid message length ${length - head} from connection ${c.id}`);
      if (c.input.length < length) break;
      const bytes = c.input.subarray(0, length);
      c.input = c.input.subarray(length);
      if (c.started) {
        c.messages.push({ type: bytes[0]!, bytes });
        c.buffered += length;
        continue;
      }
      const code = bytes.readInt32BE(4);
      // No TLS or GSS on a local socket: 'N' tells the client to go on in the clear.
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) c.socket.write('N');
      // A cancel request comes on a connection of its own; PGlite has no backend to signal.
      else if (code === CANCEL_REQUEST) return void c.socket.destroy();
      else if (code !== PROTOCOL_3)
        return refuse(
          c,
          '08P01',
          `unsupported frontend protocol ${code >> 16}.${code & 0xffff}: this server speaks 3.0`,
        );
      else {
        c.started = true;
        c.messages.push({ type: STARTUP, bytes });
        c.buffered += length;
      }
    }
    // Backpressure: stop reading a connection that has plenty queued; its turn resumes it.
    if (c.buffered >= HIGH_WATER && c.messages.length > 0) c.socket.pause();
    wants(c);
  }

  const server: Server = createServer((socket) => {
    const c: Connection = {
      id: nextId++,
      socket,
      input: Buffer.alloc(0),
      messages: [],
      buffered: 0,
      started: false,
      idle: true,
      touched: false,
      closed: false,
      queued: false,
    };
    socket.on('error', () => {}); // 'close' follows every error; a client that vanished is handled there
    socket.on('close', () => closed(c));
    if (stopping || connections.size >= maxConnections)
      return refuse(c, '53300', `the shared PGlite store has ${connections.size} connections, its maximum`);
    connections.add(c);
    socket.on('data', (chunk: Buffer) => receive(c, chunk));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    path,
    /** Open connections, and how many wait for their turn: for tests and diagnostics. */
    stats: () => ({ connections: connections.size, waiting: queue.length, holding: holder?.id }),
    /** Stops accepting, ends every connection and waits for the turn in progress, so the caller may close PGlite. */
    async stop() {
      stopping = true;
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of [...connections, ...queue]) {
        c.socket.destroy();
        closed(c);
      }
      queue.length = 0;
      await turn;
      await closing;
    },
  };
}

export type PgliteServer = Awaited<ReturnType<typeof servePglite>>;
