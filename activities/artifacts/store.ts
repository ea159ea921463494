import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { artifactUri } from '../refs';
import { fileChunks } from '../common/file-chunks';
import { isS3Uri, parseS3Uri, S3Objects, s3ClientFromEnv } from './s3-objects';

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
  constructor(
    readonly uri: string,
    where?: string,
  ) {
    super(`artifact ${uri} is not in the artifact store${where ? ` (no object ${where})` : ''}`);
    this.name = 'ArtifactNotFoundError';
  }
}

export class ArtifactIntegrityError extends Error {
  constructor(
    readonly uri: string,
    readonly where: string,
    actual: string,
  ) {
    super(`artifact ${uri} read from ${where} has the content of sha256:${actual}: the object was altered`);
    this.name = 'ArtifactIntegrityError';
  }
}

export interface ArtifactStoreOptions {
  /** With an s3:// location, the local folder that caches objects (default: $KILN_HOME/artifact-cache). */
  cacheDir?: string;
  client?: S3Client;
}

/**
 * Content-addressed files under one folder: `sha256/ab/<hash>`. A file appears under its hash
 * only once fully written (temp file, then rename), so readers never see half an artifact,
 * and identical content is stored once.
 *
 * With `s3://bucket/prefix` as its location (KILN_ARTIFACTS), every artifact is also uploaded to
 * `prefix/sha256/ab/<hash>` in that bucket, so workers on other machines read it; the folder then
 * caches what this worker wrote or fetched, and reads check the content against its hash.
 */
export class ArtifactStore {
  /** The local folder: the store itself, or the cache of an object store. */
  readonly root: string;
  readonly remote: S3Objects | undefined;

  constructor(location: string, options: ArtifactStoreOptions = {}) {
    if (isS3Uri(location)) {
      this.remote = new S3Objects(parseS3Uri(location), options.client ?? s3ClientFromEnv());
      this.root = options.cacheDir ?? resolve(process.env.KILN_HOME ?? '.kiln', 'artifact-cache');
    } else {
      this.remote = undefined;
      this.root = location;
    }
  }

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

  /** Stores a finished file (moved in, not copied), hashing it on the way; it must be below `root`'s tmp folder or on its file system. */
  async putFile(path: string): Promise<StoredArtifact> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of fileChunks(path)) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
    return this.commit(hash.digest('hex'), size, async () => {}, path);
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
      await this.publish(sha256, target);
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
    await this.publish(sha256, target);
    return stored;
  }

  /** Uploads a committed file to the object store unless it is there already (same hash, same bytes). */
  private async publish(sha256: string, file: string): Promise<void> {
    if (!this.remote || (await this.remote.has(sha256))) return;
    await this.remote.upload(sha256, createReadStream(file));
  }

  async has(uri: string): Promise<boolean> {
    const sha256 = ArtifactStore.shaOf(uri);
    return (await exists(this.pathOf(sha256))) || ((await this.remote?.has(sha256)) ?? false);
  }

  async read(uri: string): Promise<Buffer> {
    const sha256 = ArtifactStore.shaOf(uri);
    if (this.remote && !(await exists(this.pathOf(sha256)))) await this.fetch(uri, sha256);
    try {
      return await readFile(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(uri);
      throw error;
    }
  }

  /** Copies an object into the local cache, checked against its hash on the way. */
  private async fetch(uri: string, sha256: string): Promise<void> {
    await mkdir(join(this.root, 'tmp'), { recursive: true, mode: PRIVATE_DIR });
    const tmp = join(this.root, 'tmp', randomUUID());
    try {
      await pipeline(this.remoteStream(uri, sha256), createWriteStream(tmp, { mode: PRIVATE_FILE }));
      await mkdir(dirname(this.pathOf(sha256)), { recursive: true, mode: PRIVATE_DIR });
      await rename(tmp, this.pathOf(sha256));
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async *remoteStream(uri: string, sha256: string): AsyncGenerator<Buffer> {
    const remote = this.remote!;
    const body = await remote.download(sha256);
    if (!body) throw new ArtifactNotFoundError(uri, remote.describe(sha256));
    const hash = createHash('sha256');
    for await (const chunk of body as AsyncIterable<Buffer>) {
      hash.update(chunk);
      yield chunk;
    }
    const actual = hash.digest('hex');
    if (actual !== sha256) throw new ArtifactIntegrityError(uri, remote.describe(sha256), actual);
  }

  /** A local file holding the artifact, for readers that need a path (DuckDB): the store's own, or the cache's copy of the object. */
  async localPath(uri: string): Promise<string> {
    const sha256 = ArtifactStore.shaOf(uri);
    const path = this.pathOf(sha256);
    if (await exists(path)) return path;
    if (!this.remote) throw new ArtifactNotFoundError(uri);
    await this.fetch(uri, sha256);
    return path;
  }

  async readJson<T>(uri: string): Promise<T> {
    return JSON.parse((await this.read(uri)).toString('utf8')) as T;
  }

  /** The artifact's bytes; from an object store they stream straight from it, not through the cache. */
  stream(uri: string): Readable {
    const sha256 = ArtifactStore.shaOf(uri);
    const path = this.pathOf(sha256);
    if (!this.remote) return createReadStream(path);
    const cachedOrRemote = async function* (this: ArtifactStore) {
      if (await exists(path)) yield* createReadStream(path);
      else yield* this.remoteStream(uri, sha256);
    };
    return Readable.from(cachedOrRemote.call(this), { objectMode: false });
  }
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );
