import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq } from 'drizzle-orm';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import { schedule } from '../../cli/commands/schedule';
import batchScoring from '../../examples/batch-scoring';
import { openStore, SYSTEM, type Store } from '../../store';
import { runs } from '../../store/schema/runs';
import { stepExecutions } from '../../store/schema/steps';
import { engine } from '../fixtures/engine';
import { register, shiftedModel, trainCreditModel } from '../serving/credit-model';
import { testContext } from '../support/step-context';
import { postgres, type TestPostgres } from '../support/postgres';

// Batch scoring on a schedule as an operator sets it up: `kiln schedule create` with a cron on the
// example pipeline, triggered, scores the file with the version the alias names at that run and
// writes a CSV whose lineage reaches the model version and the input file's bytes.

const suffix = randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface ScoredOutput {
  model: { name: string; version: number; sha256: string };
  predictions: { sha256: string; rows: number };
  written: { uri: string; sha256: string; rows: number };
}

describe('batch scoring on a schedule', () => {
  let store: Store;
  let database: TestPostgres;
  let kiln: Awaited<ReturnType<typeof engine>>;
  let ctx: Awaited<ReturnType<typeof testContext>>;
  let out: string;
  let operator: string;
  const versions: { sha256: string }[] = [];
  const saved = { ...process.env };

  // The scheduled runs' records, newest last, with the scoring step's output.
  async function scoredRuns(name: string) {
    const rows = await store.db
      .select({ id: runs.id, status: runs.status, output: stepExecutions.output })
      .from(runs)
      .leftJoin(stepExecutions, and(eq(stepExecutions.runId, runs.id), eq(stepExecutions.status, 'succeeded')))
      .where(eq(runs.scheduleId, name))
      .orderBy(asc(runs.startedAt));
    return rows.filter((r) => (r.output as Partial<ScoredOutput> | null)?.written);
  }
  async function nextScored(name: string, count: number): Promise<ScoredOutput> {
    for (const end = Date.now() + 90_000; Date.now() < end; await sleep(300)) {
      const done = await scoredRuns(name);
      if (done.length >= count) return done[count - 1]!.output as ScoredOutput;
    }
    throw new Error(`timed out waiting for scheduled scoring run ${count} of ${name}`);
  }

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'kiln-scored-'));
    database = await postgres();
    store = await openStore({ url: database.url });
    kiln = await engine(builtinSteps, { store });
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: kiln.address,
      KILN_TASK_QUEUE: kiln.taskQueue,
      DATABASE_URL: database.url,
      // The worker reads the example's data below the working directory and writes below `out`.
      KILN_DATA_ROOTS: `${process.cwd()}:${out}`,
    });
    delete process.env.KILN_TOKEN;
    operator = (await store.access.createToken(SYSTEM, { name: 'olive', role: 'operator' })).token;
    ctx = { ...(await testContext()), artifacts: new ArtifactStore(kiln.artifactsDir) };
    const credit = await trainCreditModel(ctx);
    for (const model of [credit.model, await shiftedModel(ctx.artifacts, credit, 1.5)]) {
      await register(ctx, store, model, 'credit-risk');
      versions.push({ sha256: model.sha256 });
    }
    await store.registry.promote(SYSTEM, 'credit-risk', 1, 'production');
  });
  after(async () => {
    process.env = saved;
    await kiln.stop();
    await store.close();
    await database.stop();
    await rm(out, { recursive: true, force: true });
  });

  it('scores the file with the alias’s version at each run, writes the CSV and records lineage from the version and the input file', async () => {
    const name = `scoring-${suffix}`;
    const target = join(out, 'scored', 'credit-risk.csv');
    const args = ['--pipeline', 'examples/batch-scoring.ts', '--cron', '0 2 * * *', '-p', `output=${target}`];
    assert.equal(await schedule(['create', name, ...args, '--token', operator], () => {}), 0);
    assert.equal(await schedule(['trigger', name, '--token', operator], () => {}), 0);

    const first = await nextScored(name, 1);
    assert.deepEqual(first.model, { name: 'credit-risk', version: 1, sha256: versions[0]!.sha256 });
    const csv = await readFile(target);
    assert.equal(first.written.sha256, sha256(csv), 'the output names the bytes written');
    const lines = csv.toString('utf8').trimEnd().split('\n');
    assert.equal(lines.length, 1001, 'a header and the 1,000 applicants');
    assert.match(lines[0]!, /,class,prediction,p_good,p_bad$|,class,prediction,p_bad,p_good$/);
    assert.match(lines[1]!, /,(good|bad),(good|bad),0\.\d+,0\.\d+$/);

    const graph = await store.lineage.upstream(SYSTEM, { artifact: first.written.sha256 });
    const artifacts = graph.nodes.filter((n) => n.type === 'artifact').map((n) => n.id);
    const input = sha256(await readFile('examples/data/german-credit.csv'));
    for (const [what, sha] of [
      ['the model version', versions[0]!.sha256],
      ['the input file', input],
    ])
      assert.ok(artifacts.includes(`artifact:${sha}`), `${what} is upstream of the CSV`);

    // The alias moves; the next run follows it without touching the schedule. Temporal names a
    // schedule's runs by the second they start at, so the second trigger waits for the next second
    // (the first run can now finish within the second it started in).
    await store.registry.promote(SYSTEM, 'credit-risk', 2, 'production');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(await schedule(['trigger', name, '--token', operator], () => {}), 0);
    const second = await nextScored(name, 2);
    assert.equal(second.model.version, 2);
    assert.notEqual(second.written.sha256, first.written.sha256, 'the shifted version scores differently');
    assert.equal(sha256(await readFile(target)), second.written.sha256, 'the file is replaced whole');
    assert.equal(await schedule(['delete', name, '--token', operator], () => {}), 0);
  });

  it('refuses an output outside the data roots, through a symlink too, and an unknown alias, writing nothing', async () => {
    await symlink(tmpdir(), join(out, 'escape'));
    const cases = [
      { params: { output: '/etc/kiln-scored.csv' }, type: 'InvalidInput', message: /outside the data roots/ },
      {
        params: { output: join(out, 'escape', `x-${suffix}`, 'scored.csv') },
        type: 'InvalidInput',
        message: /resolves outside/,
      },
      { params: { model: 'credit-risk@nightly', output: join(out, 'n.csv') }, type: 'NotFound', message: /nightly/ },
    ];
    for (const { params, type, message } of cases) {
      const handle = await kiln.start(batchScoring, params);
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
        assert.equal(error.cause.type, type);
        assert.match(error.cause.message, message);
        return true;
      });
    }
    await assert.rejects(
      readFile(join(tmpdir(), `x-${suffix}`, 'scored.csv')),
      /ENOENT/,
      'nothing made through the link',
    );
  });
});
