/**
 * Upload and download throughput of artifacts in an S3-compatible store against the plain SDK
 * floor in the same run: one PutObject of the whole buffer, one GetObject read to the end.
 * Kiln's path is ArtifactStore.putStream (hash, local cache file, multipart upload) and
 * ArtifactStore.stream from an empty cache (streamed, hash-checked).
 *   npx tsx bench/s3/throughput.ts        MB=64 REPS=3 by default
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../../activities/artifacts/store';
import { startS3 } from '../../test/support/s3';

const MB = Number(process.env.MB ?? 64);
const REPS = Number(process.env.REPS ?? 3);
const CHUNK = 1 << 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (fn: () => Promise<unknown>) => {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
};
const chunks = (bytes: Buffer) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / CHUNK) }, (_, i) => bytes.subarray(i * CHUNK, (i + 1) * CHUNK)),
  );
const drain = async (stream: AsyncIterable<Uint8Array>) => {
  let size = 0;
  for await (const chunk of stream) size += chunk.byteLength;
  return size;
};

const s3 = await startS3('kiln-bench');
const scratch = await mkdtemp(join(tmpdir(), 'kiln-s3-bench-'));
try {
  const times = { put: [] as number[], upload: [] as number[], get: [] as number[], download: [] as number[] };
  for (let rep = 0; rep <= REPS; rep++) {
    // Fresh random bytes each time, so no run finds its content already stored.
    const bytes = randomBytes(MB * CHUNK);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const floorKey = `floor/${sha256}`;
    const store = () =>
      new ArtifactStore(`s3://${s3.bucket}/kiln`, {
        cacheDir: join(scratch, `cache-${rep}-${Math.random()}`),
        client: s3.client,
      });
    const put = await time(() =>
      s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: floorKey, Body: bytes })),
    );
    let uri = '';
    const upload = await time(async () => ({ uri } = await store().putStream(chunks(bytes))));
    const get = await time(async () => {
      const answer = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: floorKey }));
      if ((await drain(answer.Body as Readable)) !== bytes.length) throw new Error('short GetObject');
    });
    const download = await time(async () => {
      if ((await drain(store().stream(uri))) !== bytes.length) throw new Error('short artifact stream');
    });
    if (rep === 0) continue; // warm-up
    times.put.push(put);
    times.upload.push(upload);
    times.get.push(get);
    times.download.push(download);
  }
  const rate = (s: number[]) => MB / median(s);
  console.log(`| direction | Kiln MB/s | SDK floor MB/s | ratio (floor time / Kiln time) | size | runs |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const [name, kiln, floor] of [
    ['upload (putStream vs PutObject)', times.upload, times.put],
    ['download (stream vs GetObject)', times.download, times.get],
  ] as const)
    console.log(
      `| ${name} | ${rate(kiln).toFixed(1)} | ${rate(floor).toFixed(1)} | ${(median(floor) / median(kiln)).toFixed(2)}x | ${MB} MiB | ${REPS} |`,
    );
} finally {
  await s3.stop();
  await rm(scratch, { recursive: true, force: true });
}
