import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../../activities/artifacts/store';
import { dataSteps } from '../../activities/data';
import { checkQuality, readCsv, splitDataset } from '../../activities/data/steps';
import { compile, pipeline } from '../../dsl';
import type { Store } from '../../store';
import { SYSTEM } from '../../store/access';
import { runPipeline } from '../../workflows';
import { createKilnWorker } from '../../workers/create-worker';
import { testBackends } from '../support/backends';
import { startS3, type TestS3 } from '../support/s3';
import { temporal } from '../support/temporal';

const credit = pipeline({ name: 's3-credit-quality' }, (p) => {
  const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
  const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
  const quality = p.step(checkQuality, {
    dataset: split.test,
    checks: [{ column: 'credit_amount', distribution: { reference: split.train, maxPsi: 0.2 } }],
  });
  return { passed: quality.passed, report: quality.report };
});

for (const backend of testBackends()) {
  describe(`a pipeline whose artifacts live in an object store (${backend.name})`, () => {
    let s3: TestS3;
    let server: Awaited<ReturnType<typeof temporal>>;
    let store: Store;
    let scratch: string;
    let client: Client;
    const workers: Array<{ worker: Worker; running: Promise<void>; connection: NativeConnection }> = [];
    const saved = { ...process.env };

    const startWorker = async (artifactsDir: string) => {
      const taskQueue = `test-${randomUUID()}`;
      const connection = await NativeConnection.connect({ address: server.address });
      const worker = await createKilnWorker({ connection, taskQueue, steps: dataSteps, artifactsDir, store });
      workers.push({ worker, running: worker.run(), connection });
      return taskQueue;
    };
    const run = async (taskQueue: string) => {
      const handle = await client.workflow.start(runPipeline, {
        taskQueue,
        workflowId: `${credit.name}-${randomUUID()}`,
        args: [{ plan: compile(credit), params: {}, options: { cache: false } }],
      });
      const result = await handle.result();
      const artifacts = (await store.lineage.upstream(SYSTEM, `run:${handle.workflowId}`)).nodes.flatMap((n) =>
        n.type === 'artifact' && n.kind !== 'file' ? [n.sha256] : [],
      );
      return { result, artifacts: artifacts.sort() };
    };

    before(async () => {
      s3 = await startS3();
      server = await temporal();
      store = await backend.open();
      scratch = await mkdtemp(join(tmpdir(), 'kiln-s3-pipeline-'));
      // What a worker on another machine is given: the object store's endpoint and keys, and a home of its own.
      Object.assign(process.env, s3.env, { KILN_HOME: join(scratch, 'home') });
      client = new Client({ connection: await Connection.connect({ address: server.address }) });
    });
    after(async () => {
      for (const w of workers) {
        w.worker.shutdown();
        await w.running;
        await w.connection.close();
      }
      await client?.connection.close();
      await server?.stop();
      await backend.close();
      await s3?.stop();
      process.env = saved;
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('completes with the same artifact hashes in lineage as on local disk, every one in the bucket', async () => {
      const local = await run(await startWorker(join(scratch, 'local-artifacts')));
      const remote = await run(await startWorker(`s3://${s3.bucket}/kiln`));
      assert.deepEqual(remote.result.output, local.result.output);
      assert.ok(local.artifacts.length >= 4, `lineage artifacts: ${local.artifacts.join(', ')}`);
      assert.deepEqual(remote.artifacts, local.artifacts);
      for (const sha256 of remote.artifacts) {
        const Key = `kiln/sha256/${sha256.slice(0, 2)}/${sha256}`;
        const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key }));
        assert.ok((head.ContentLength ?? 0) > 0, Key);
      }
      // A worker with an empty cache (another machine) reads the report the run wrote.
      const elsewhere = new ArtifactStore(`s3://${s3.bucket}/kiln`, {
        cacheDir: join(scratch, 'elsewhere'),
        client: s3.client,
      });
      const report = (remote.result.output as { report: { uri: string } }).report;
      assert.deepEqual(
        await elsewhere.readJson(report.uri),
        await new ArtifactStore(join(scratch, 'local-artifacts')).readJson(report.uri),
      );
    });
  });
}
