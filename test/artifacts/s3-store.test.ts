import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ArtifactIntegrityError, ArtifactNotFoundError, ArtifactStore } from '../../activities/artifacts/store';
import { ObjectStoreError, parseS3Uri, s3ClientFromEnv } from '../../activities/artifacts/s3-objects';
import { loadConfig } from '../../runtime/config';
import { startS3, type TestS3 } from '../support/s3';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A client of the test server that notes the name of every command it sends. */
function countingClient(env: Record<string, string>) {
  const client = s3ClientFromEnv(env);
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize' },
  );
  return { client, sent };
}

describe('artifacts in an S3-compatible object store', () => {
  let s3: TestS3;
  let scratch: string;
  // Each store has a cache folder of its own, as a worker on another machine would.
  const open = async (location = `s3://${s3.bucket}/team/artifacts`) =>
    new ArtifactStore(location, { cacheDir: await mkdtemp(join(scratch, 'cache-')), client: s3.client });

  before(async () => {
    s3 = await startS3();
    scratch = await mkdtemp(join(tmpdir(), 'kiln-s3-store-'));
  });
  after(async () => {
    await s3?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('stores an artifact under prefix/sha256/ab/<hash> and another worker reads it back', async () => {
    const writer = await open();
    const stored = await writer.putJson({ rows: [1, 2, 3] });
    const key = `team/artifacts/sha256/${stored.sha256.slice(0, 2)}/${stored.sha256}`;
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    assert.equal(head.ContentLength, stored.size);
    const reader = await open();
    assert.equal(await reader.has(stored.uri), true);
    assert.deepEqual(await reader.readJson(stored.uri), { rows: [1, 2, 3] });
  });

  it('uploads a 12 MiB stream in parts and streams it back to a worker without it', async () => {
    const bytes = randomBytes(12 * 1024 * 1024);
    const { client, sent } = countingClient(s3.env);
    const writer = new ArtifactStore(`s3://${s3.bucket}/team/artifacts`, {
      cacheDir: await mkdtemp(join(scratch, 'cache-')),
      client,
    });
    // Fed in 1 MiB chunks, as a dataset writer would, so nothing holds the whole file at once.
    const stored = await writer.putStream(
      Readable.from(Array.from({ length: 12 }, (_, i) => bytes.subarray(i << 20, (i + 1) << 20))),
    );
    assert.equal(stored.sha256, sha(bytes));
    assert.equal(stored.size, bytes.byteLength);
    assert.equal(sent.filter((c) => c === 'UploadPartCommand').length, 2, sent.join(', '));
    assert.ok(sent.includes('CompleteMultipartUploadCommand'), sent.join(', '));
    const reader = await open();
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of reader.stream(stored.uri) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
    assert.equal(size, bytes.byteLength);
    assert.equal(hash.digest('hex'), stored.sha256);
    assert.deepEqual(await (await open()).read(stored.uri), bytes);
  });

  it('stores identical content once and uploads nothing the second time', async () => {
    const first = await (await open()).put('same bytes');
    const { client, sent } = countingClient(s3.env);
    const second = await new ArtifactStore(`s3://${s3.bucket}/team/artifacts`, {
      cacheDir: await mkdtemp(join(scratch, 'cache-')),
      client,
    }).put('same bytes');
    assert.equal(first.uri, second.uri);
    assert.deepEqual(sent, ['HeadObjectCommand']);
  });

  it('names the bucket and key of an artifact that is not in the store', async () => {
    const missing = `artifact:sha256:${'0'.repeat(64)}`;
    const store = await open();
    assert.equal(await store.has(missing), false);
    await assert.rejects(store.read(missing), (error: Error) => {
      assert.ok(error instanceof ArtifactNotFoundError);
      assert.match(error.message, new RegExp(`s3://${s3.bucket}/team/artifacts/sha256/00/0{64}`));
      return true;
    });
    await assert.rejects(async () => {
      for await (const chunk of store.stream(missing)) void chunk;
    }, ArtifactNotFoundError);
  });

  it('names the bucket and key when the store refuses a call (a bucket that does not exist)', async () => {
    const store = await open('s3://no-such-bucket/p');
    await assert.rejects(store.put('x'), (error: Error) => {
      assert.ok(error instanceof ObjectStoreError);
      assert.match(error.message, /s3:\/\/no-such-bucket\/p\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}/);
      assert.match(error.message, /KILN_S3_ENDPOINT/);
      return true;
    });
  });

  it('refuses a location whose prefix climbs out or is not a plain path', () => {
    for (const hostile of [
      's3://bucket/../other',
      's3://bucket/a/./b',
      's3://bucket//a',
      's3://bucket/a\\..\\b',
      's3://bucket/a?versionId=1',
      's3://user:secret@host:9000/a',
      's3://Bucket_Upper/a',
      's3://bucket/a\u0000b',
    ])
      assert.throws(() => parseS3Uri(hostile), /KILN_ARTIFACTS=.*expected s3:\/\/bucket\/prefix/, hostile);
    assert.deepEqual(parseS3Uri('s3://bucket/a/b/'), { bucket: 'bucket', prefix: 'a/b' });
    assert.deepEqual(parseS3Uri('s3://bucket'), { bucket: 'bucket', prefix: '' });
  });

  it('reads nothing outside its prefix, whatever uri a plan holds', async () => {
    const outside = Buffer.from('secret of another team');
    const hash = sha(outside);
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: `other-team/sha256/${hash.slice(0, 2)}/${hash}`, Body: outside }),
    );
    const store = await open();
    await assert.rejects(store.read(`artifact:sha256:${hash}`), ArtifactNotFoundError);
    for (const crafted of [
      `artifact:sha256:../../other-team/sha256/${hash.slice(0, 2)}/${hash}`,
      `artifact:sha256:${hash}/../../../other-team`,
      `artifact:sha256:${hash.toUpperCase()}`,
      `s3://${s3.bucket}/other-team/sha256/${hash.slice(0, 2)}/${hash}`,
    ]) {
      await assert.rejects(store.read(crafted), /is not an artifact uri/, crafted);
      assert.throws(() => store.stream(crafted), /is not an artifact uri/, crafted);
    }
  });

  it('refuses an object whose content does not match its hash', async () => {
    const genuine = Buffer.from('genuine model');
    const hash = sha(genuine);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `team/artifacts/sha256/${hash.slice(0, 2)}/${hash}`,
        Body: 'altered model',
      }),
    );
    const store = await open();
    await assert.rejects(store.read(`artifact:sha256:${hash}`), ArtifactIntegrityError);
    assert.equal(await store.has(`artifact:sha256:${hash}`), true, 'the object exists, but is never served');
  });
});

it('keeps KILN_ARTIFACTS=s3://… as the artifact store location, with a local cache folder', () => {
  const config = loadConfig({ KILN_ARTIFACTS: 's3://team-bucket/kiln/', KILN_HOME: '/srv/kiln' });
  assert.equal(config.artifactsDir, 's3://team-bucket/kiln/');
  const store = new ArtifactStore(config.artifactsDir, { client: s3ClientFromEnv({}) });
  assert.deepEqual(store.remote?.location, { bucket: 'team-bucket', prefix: 'kiln' });
  assert.ok(store.root.endsWith('artifact-cache') && !store.root.includes('s3:'), store.root);
  assert.equal(
    loadConfig({ KILN_ARTIFACTS: 'relative/artifacts' }).artifactsDir,
    join(process.cwd(), 'relative/artifacts'),
  );
});
