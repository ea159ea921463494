import { GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';

/** Where artifacts live in an object store: `s3://bucket/prefix`. */
export interface S3Location {
  bucket: string;
  /** Without leading or trailing slashes; '' for the bucket's root. */
  prefix: string;
}

export const isS3Uri = (location: string) => location.startsWith('s3://');

// S3's bucket naming rules; anything else (a host, a port, credentials) is refused.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SHA256 = /^[0-9a-f]{64}$/;
// Multipart parts: S3 needs at least 5 MiB per part but the last.
const PART_SIZE = 8 * 1024 * 1024;

/**
 * Parses `KILN_ARTIFACTS=s3://bucket/prefix`. The prefix may not climb (`..`), hold empty, `.`,
 * backslash or control-character segments, or a query: every key the store writes or reads is
 * `prefix/sha256/ab/<hash>`, and nothing else.
 */
export function parseS3Uri(uri: string): S3Location {
  const fail = (why: string) => new Error(`KILN_ARTIFACTS=${uri}: ${why} (expected s3://bucket/prefix)`);
  if (!isS3Uri(uri)) throw fail('not an s3:// location');
  const [bucket = '', ...segments] = uri.slice('s3://'.length).replace(/\/+$/, '').split('/');
  if (!BUCKET.test(bucket)) throw fail(`'${bucket}' is not an S3 bucket name`);
  for (const segment of segments)
    if (segment === '' || segment === '.' || segment === '..' || /[\\?#\p{Cc}]/u.test(segment))
      throw fail(`the prefix segment '${segment}' is not allowed`);
  return { bucket, prefix: segments.join('/') };
}

/** The standard AWS environment (credentials, AWS_REGION) plus KILN_S3_ENDPOINT for other S3-compatible stores. */
export function s3ClientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.KILN_S3_ENDPOINT;
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // MinIO, SeaweedFS and the like serve buckets as paths, not as host names.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    // Keys given in `env` win; otherwise the SDK's chain (process environment, profiles, instance roles).
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    // Only checksums the protocol demands: many S3-compatible stores reject the newer default ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A failed object-store call, naming the bucket and key and what the store answered. */
export class ObjectStoreError extends Error {
  constructor(
    readonly operation: string,
    readonly bucket: string,
    readonly key: string,
    options: { cause: unknown },
  ) {
    const cause = options.cause as { name?: string; message?: string };
    super(
      `object store ${operation} of s3://${bucket}/${key} failed: ${cause.name ?? 'Error'}: ${cause.message ?? String(cause)}. ` +
        'Check KILN_ARTIFACTS, KILN_S3_ENDPOINT and the AWS credentials.',
      options,
    );
    this.name = 'ObjectStoreError';
  }
}

const isMissing = (error: unknown) =>
  error instanceof S3ServiceException &&
  (error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404);

/** Content-addressed objects under one prefix of one bucket. */
export class S3Objects {
  constructor(
    readonly location: S3Location,
    readonly client: S3Client = s3ClientFromEnv(),
  ) {}

  keyOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`'${sha256}' is not a sha256 hex digest`);
    const key = `sha256/${sha256.slice(0, 2)}/${sha256}`;
    return this.location.prefix ? `${this.location.prefix}/${key}` : key;
  }

  describe(sha256: string): string {
    return `s3://${this.location.bucket}/${this.keyOf(sha256)}`;
  }

  async has(sha256: string): Promise<boolean> {
    const Key = this.keyOf(sha256);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw new ObjectStoreError('check', this.location.bucket, Key, { cause: error });
    }
  }

  /** Uploads in parts of 8 MiB, four at a time, so a big dataset streams through bounded memory. */
  async upload(sha256: string, body: Readable | Uint8Array): Promise<void> {
    const Key = this.keyOf(sha256);
    try {
      await new Upload({
        client: this.client,
        params: { Bucket: this.location.bucket, Key, Body: body },
        partSize: PART_SIZE,
        queueSize: 4,
      }).done();
    } catch (error) {
      throw new ObjectStoreError('upload', this.location.bucket, Key, { cause: error });
    }
  }

  /** The object's bytes as a stream, or undefined when there is no such object. */
  async download(sha256: string): Promise<Readable | undefined> {
    const Key = this.keyOf(sha256);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key }));
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new ObjectStoreError('download', this.location.bucket, Key, { cause: error });
    }
  }
}
