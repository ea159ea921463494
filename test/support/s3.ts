import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { s3ClientFromEnv } from '../../activities/artifacts/s3-objects';
import type { S3Client } from '@aws-sdk/client-s3';
import { freePort, listening } from './ports';

export interface TestS3 {
  /** `http://127.0.0.1:PORT`, for KILN_S3_ENDPOINT. */
  endpoint: string;
  bucket: string;
  /** The environment a worker needs to use this server (endpoint, region, credentials). */
  env: Record<string, string>;
  client: S3Client;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** $KILN_S3_SERVER (setup.sh's ensure_s3 exports it), else whatever scripts/ensure-s3.sh builds or finds. */
const serverBinary = () =>
  process.env.KILN_S3_SERVER ??
  execFileSync('bash', [resolve(import.meta.dirname, '../../scripts/ensure-s3.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();

/**
 * A private S3-compatible server (gofakes3 on its file-system backend) on a free loopback port,
 * its buckets in a temp directory, with one bucket created.
 * @example
 * let s3: TestS3;
 * before(async () => { s3 = await startS3(); });
 * after(() => s3.stop());
 */
export async function startS3(bucket = 'kiln-test'): Promise<TestS3> {
  const binary = serverBinary();
  const dir = await mkdtemp(join(tmpdir(), 'kiln-s3-'));
  const port = await freePort();
  const child = spawn(
    binary,
    ['-backend', 'fs', '-fs.path', dir, '-fs.create', '-host', `127.0.0.1:${port}`, '-initialbucket', bucket, '-quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${binary} did not start on port ${port} within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    KILN_S3_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'kiln-test',
    AWS_SECRET_ACCESS_KEY: 'kiln-test-secret',
  };
  return { endpoint, bucket, env, client: s3ClientFromEnv(env), stop };
}
