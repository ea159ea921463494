import { createHash, type Hash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { SourceRef } from '../library';

/** Passes chunks through unchanged while feeding them to `hash`: one read both parses and fingerprints. */
export async function* hashing<T extends Uint8Array | string>(source: AsyncIterable<T>, hash: Hash): AsyncGenerator<T> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

/** Fingerprints a local file as it is read, to report it as a step's source (`ctx.readFrom`). */
export function fileFingerprint(path: string) {
  const hash = createHash('sha256');
  let size = 0;
  return {
    async *read<T extends Uint8Array | string>(source: AsyncIterable<T>): AsyncGenerator<T> {
      for await (const chunk of hashing(source, hash)) {
        size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
        yield chunk;
      }
    },
    source: (): SourceRef => ({ kind: 'file', uri: pathToFileURL(path).href, sha256: hash.digest('hex'), size }),
  };
}
