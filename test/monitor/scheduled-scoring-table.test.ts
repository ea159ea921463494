import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import pg from 'pg';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import batchScoring from '../../examples/batch-scoring';
import { openStore, SYSTEM, type Store } from '../../store';
import { engine } from '../fixtures/engine';
import { register, shiftedModel, trainCreditModel } from '../serving/credit-model';
import { testContext } from '../support/step-context';
import { postgres, type TestPostgres } from '../support/postgres';

// Batch scoring into a PostgreSQL table, as an operator runs it: the example pipeline on a real
// Temporal worker writes the scored rows into a table of another database on the test server,
// runs coexist by run id (append) or the last run replaces the rest, and lineage names the table.

interface TableOutput {
  model: { version: number };
  table: { kind: string; uri: string; sha256: string; rows: number };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('batch scoring into a PostgreSQL table', () => {
  let store: Store;
  let storeDb: TestPostgres;
  let warehouse: TestPostgres;
  let kiln: Awaited<ReturnType<typeof engine>>;
  let ctx: Awaited<ReturnType<typeof testContext>>;
  let reader: pg.Client;
  let out: string;
  const versions: string[] = [];
  const saved = { ...process.env };

  const run = async (params: Record<string, unknown>) =>
    (await (await kiln.start(batchScoring, { output: join(out, 'scored.csv'), ...params })).result())
      .output as TableOutput;
  const byRun = async () =>
    (
      await reader.query<{ kiln_run: string; kiln_version: number; n: number }>(
        'select kiln_run, kiln_version, count(*)::int as n from scores group by 1, 2 order by min(kiln_version)',
      )
    ).rows;

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'kiln-scored-table-'));
    storeDb = await postgres();
    warehouse = await postgres();
    store = await openStore({ url: storeDb.url });
    kiln = await engine(builtinSteps, { store });
    const server = new URL(warehouse.url);
    Object.assign(process.env, {
      DATABASE_URL: storeDb.url,
      KILN_DATA_ROOTS: `${process.cwd()}:${out}`,
      // The worker's operator lists the warehouse's server; the store sits on the same server.
      KILN_SOURCE_HOSTS: server.host,
    });
    delete process.env.KILN_SOURCE_DATABASE_URL;
    reader = new pg.Client({ connectionString: warehouse.url });
    await reader.connect();
    ctx = { ...(await testContext()), artifacts: new ArtifactStore(kiln.artifactsDir) };
    const credit = await trainCreditModel(ctx);
    for (const model of [credit.model, await shiftedModel(ctx.artifacts, credit, 1.5)]) {
      await register(ctx, store, model, 'credit-risk');
      versions.push(model.sha256);
    }
    await store.registry.promote(SYSTEM, 'credit-risk', 1, 'production');
  });
  after(async () => {
    process.env = saved;
    await reader.end();
    await kiln.stop();
    await store.close();
    await Promise.all([storeDb.stop(), warehouse.stop()]);
    await ctx.dispose();
    await rm(out, { recursive: true, force: true });
  });

  it('creates the table with typed columns, appends a run per alias move, replaces with mode replace, and lineage names the table', async () => {
    const table = { name: 'scores', url: warehouse.url };
    const first = await run({ table });
    assert.equal(first.table.rows, 1000);
    assert.match(first.table.uri, /^postgres:\/\/127\.0\.0\.1:\d+\/kiln_test_\w+\?table=scores&run=batch-scoring-/);
    assert.doesNotMatch(first.table.uri, /postgres@/, 'the uri names no user');
    const types = Object.fromEntries(
      (
        await reader.query<{ column_name: string; data_type: string }>(
          "select column_name, data_type from information_schema.columns where table_name = 'scores'",
        )
      ).rows.map((r) => [r.column_name, r.data_type]),
    );
    assert.equal(types.kiln_run, 'text');
    assert.equal(types.kiln_version, 'integer');
    assert.equal(types.duration, 'bigint', 'an integer column of the input');
    assert.equal(types.prediction, 'text');
    assert.equal(types.p_bad, 'double precision');
    const sample = (await reader.query('select prediction, p_bad, p_good from scores where kiln_row = 0')).rows[0];
    assert.match(sample.prediction, /^(good|bad)$/);
    assert.ok(Math.abs(sample.p_bad + sample.p_good - 1) < 1e-6, 'probabilities read back as numbers');

    const graph = await store.lineage.upstream(SYSTEM, { artifact: first.table.sha256 });
    const root = graph.nodes.find((n) => n.type === 'artifact' && n.sha256 === first.table.sha256);
    assert.ok(
      root && root.type === 'artifact' && root.kind === 'table' && root.uri === first.table.uri,
      'lineage names the table',
    );
    const upstream = graph.nodes.filter((n) => n.type === 'artifact').map((n) => n.id);
    const input = sha256(await readFile('examples/data/german-credit.csv'));
    for (const sha of [versions[0]!, input])
      assert.ok(upstream.includes(`artifact:${sha}`), `${sha} is upstream of the table`);

    // The alias moves: the next run appends its rows beside the first run's.
    await store.registry.promote(SYSTEM, 'credit-risk', 2, 'production');
    const second = await run({ table });
    assert.equal(second.model.version, 2);
    assert.notEqual(second.table.sha256, first.table.sha256);
    assert.deepEqual(
      (await byRun()).map((r) => [r.kiln_version, r.n]),
      [
        [1, 1000],
        [2, 1000],
      ],
    );

    const third = await run({ table: { ...table, mode: 'replace' } });
    const left = await byRun();
    assert.equal(left.length, 1, 'replace leaves only this run');
    assert.equal(left[0]!.n, 1000);
    assert.equal(third.table.uri.endsWith(`run=${encodeURIComponent(left[0]!.kiln_run)}`), true);
  });

  it('refuses a hostile table name, a host the worker does not list and Kiln’s own store, before writing anything', async () => {
    const cases = [
      { table: { name: 'x; drop table runs', url: warehouse.url }, type: 'InvalidInput', message: /lowercase letters/ },
      {
        table: { name: 'scores', url: 'postgres://postgres@10.255.255.1:5432/warehouse' },
        type: 'InvalidInput',
        message: /10\.255\.255\.1:5432 is not a source host this worker allows/,
      },
      { table: { name: 'scores', url: storeDb.url }, type: 'InvalidInput', message: /is Kiln's own store/ },
      {
        table: { name: 'scores', url: warehouse.url.replace('postgres@', 'postgres:secret@') },
        type: 'InvalidData',
        message: /table\.url holds a password/,
      },
    ];
    for (const { table, type, message } of cases) {
      const output = join(out, 'refused.csv');
      const handle = await kiln.start(batchScoring, { output, table });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
        assert.equal(error.cause.type, type);
        assert.match(error.cause.message, message);
        return true;
      });
      await assert.rejects(readFile(output), /ENOENT/, 'nothing scored or written');
    }
    assert.deepEqual(
      (await byRun()).map((r) => r.n),
      [1000],
      'the table holds the last good run only',
    );
  });

  it('fails retryably on an unreachable server, before scoring or writing anything', async () => {
    process.env.KILN_SOURCE_HOSTS = `${new URL(warehouse.url).host},127.0.0.1:1`;
    const output = join(out, 'unreachable.csv');
    const handle = await kiln.start(batchScoring, {
      output,
      table: { name: 'scores', url: 'postgres://postgres@127.0.0.1:1/warehouse' },
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
      assert.equal(error.cause.type, 'DatabaseUnavailable');
      assert.match(
        error.cause.message,
        /connecting to postgres:\/\/127\.0\.0\.1:1\/warehouse to write table scores: .*ECONNREFUSED/,
      );
      return true;
    });
    await assert.rejects(readFile(output), /ENOENT/, 'nothing scored or written');
  });
});
