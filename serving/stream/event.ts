// An event's bytes as a request body: UTF-8 JSON, refused (to the dead-letter subject) when it is
// not, or when it carries the keys fastify's parser refuses in the model server (`__proto__`, and
// `constructor` holding `prototype`), so a stream and an HTTP caller get the same answer.

/** An event that is not a request body at all; `code` as the model server's error codes. */
export class StreamEventError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StreamEventError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** The JSON value of an event's payload; throws StreamEventError saying what is wrong with it. */
export function parseEvent(data: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch (error) {
    throw new StreamEventError('InvalidEncoding', 'the event is not UTF-8 text', { cause: error });
  }
  if (text.trim() === '') throw new StreamEventError('InvalidJson', 'the event is empty: send one row as JSON');
  try {
    // The reviver costs as much as the parse: skipped when no key can be a forbidden one (without a
    // backslash, a key is spelled in the text as it is parsed).
    if (!text.includes('\\') && !text.includes('__proto__') && !text.includes('constructor')) return JSON.parse(text);
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__' || (key === 'constructor' && isObject(value) && 'prototype' in value))
        throw new StreamEventError('InvalidJson', `the event holds the forbidden key '${key}'`);
      return value;
    });
  } catch (error) {
    if (error instanceof StreamEventError) throw error;
    throw new StreamEventError('InvalidJson', `the event is not JSON: ${(error as Error).message}`, { cause: error });
  }
}
