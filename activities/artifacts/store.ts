import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { artifactUri } from '../refs';

export interface StoredArtifact {
  uri: string;
  sha256: string;
  size: number;
}

const URI = /^artifact:sha256:([0-9a-f]{64})$/;

// Artifacts hold datasets and models: on a shared host, only the worker's user may read them.
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

export class ArtifactNotFoundError extends Error {
  constructor(readonly uri: string) {
    super(`artifact ${uri} is not in the artifact store`);
    this.name = 'ArtifactNotFoundError';
  }
}

/**
 * Content-addressed files under one folder: `sha256/ab/<hash>`. A file appears under its hash
 * only once fully written (temp file, then rename), so readers never see half an artifact,
 * and identical content is stored once.
 */
export class ArtifactStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  static shaOf(uri: string): string {
    const match = URI.exec(uri);
    if (!match) throw new Error(`'${uri}' is not an artifact uri (expected artifact:sha256:<64 hex>)`);
    return match[1]!;
  }

  async put(data: Uint8Array | string): Promise<StoredArtifact> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.commit(sha256, bytes.byteLength, async (tmp) => {
      await pipeline(
        async function* () {
          yield bytes;
        },
        createWriteStream(tmp, { mode: PRIVATE_FILE }),
      );
    });
  }

  async putJson(value: unknown): Promise<StoredArtifact> {
    return this.put(JSON.stringify(value));
  }

  /** Streams content in, hashing as it goes. */
  async putStream(source: Readable | AsyncIterable<Uint8Array | string>): Promise<StoredArtifact> {
    await mkdir(join(this.root, 'tmp'), { recursive: true, mode: PRIVATE_DIR });
    const tmp = join(this.root, 'tmp', randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array | string>) {
          for await (const chunk of chunks) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            hash.update(bytes);
            size += bytes.byteLength;
            yield bytes;
          }
        },
        createWriteStream(tmp, { mode: PRIVATE_FILE }),
      );
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    return this.commit(sha256, size, async () => {}, tmp);
  }

  private async commit(
    sha256: string,
    size: number,
    write: (tmp: string) => Promise<void>,
    written?: string,
  ): Promise<StoredArtifact> {
    const target = this.pathOf(sha256);
    const stored = { uri: artifactUri(sha256), sha256, size };
    if (await exists(target)) {
      if (written) await rm(written, { force: true });
      return stored;
    }
    await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR });
    let tmp = written;
    if (!tmp) {
      await mkdir(join(this.root, 'tmp'), { recursive: true, mode: PRIVATE_DIR });
      tmp = join(this.root, 'tmp', randomUUID());
      try {
        await write(tmp);
      } catch (error) {
        await rm(tmp, { force: true });
        throw error;
      }
    }
    await rename(tmp, target);
    return stored;
  }

  async has(uri: string): Promise<boolean> {
    return exists(this.pathOf(ArtifactStore.shaOf(uri)));
  }

  async read(uri: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(ArtifactStore.shaOf(uri)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(uri);
      throw error;
    }
  }

  async readJson<T>(uri: string): Promise<T> {
    return JSON.parse((await this.read(uri)).toString('utf8')) as T;
  }

  stream(uri: string): Readable {
    return createReadStream(this.pathOf(ArtifactStore.shaOf(uri)));
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
