import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { hashForReport } from '../../../activities/common/keyed-hash';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { readJsonlImpl } from '../../../activities/data/read-jsonl';
import { checkQualityImpl, type QualityReport } from '../../../activities/data/quality';
import { splitImpl } from '../../../activities/data/split';
import { evaluateFairnessImpl } from '../../../activities/evaluate/fairness';
import { monitorPolicy } from '../../../monitor/policy';
import { measureWindow } from '../../../monitor/report';
import { SYSTEM } from '../../../store';
import { stepStore } from '../../../workers/step-store';
import { testBackends } from '../../support/backends';
import { testContext } from '../../support/step-context';
import { rejectsWith, writeInput } from '../../support/step-inputs';
import { linearModel } from '../../fixtures/models';

type Ctx = Awaited<ReturnType<typeof testContext>>;

// A hostile value in a tagged column: it must reach no message, report or log.
const SECRET = 'SECRET-4242';
const CSV = [
  'x,group,name,y',
  '1,a,Ann,yes',
  '2,a,Bob,yes',
  '1,a,Cy,no',
  '-1,a,Di,no',
  `1,${SECRET},Ed,yes`,
  `-1,${SECRET},Flo,yes`,
  `-2,${SECRET},Gus,no`,
  `-1,${SECRET},${SECRET},no`,
].join('\n');

for (const backend of testBackends()) {
  describe(`sensitive columns (${backend.name})`, () => {
    let ctx: Ctx & { logs: unknown[] };
    let path: string;
    before(async () => {
      const store = await backend.open();
      const base = await testContext();
      const logs: unknown[] = [];
      ctx = { ...base, logs, log: (...args) => logs.push(args), store: stepStore(store, base.run.workflowId) };
      // As `kiln run` records who started the run.
      await store.audit.appendAudit(SYSTEM, {
        actor: 'alice',
        action: 'run.start',
        subject: `run:${ctx.run.workflowId}`,
      });
      path = await writeInput(ctx, 'csv', CSV);
    });
    after(async () => {
      await ctx.dispose();
      await backend.close();
    });

    const read = () => readCsvImpl.run({ path, label: 'y', sensitive: { group: 'hash', name: 'drop' } }, ctx);

    it('tags a hashed column in the schema and leaves a dropped one out of the dataset', async () => {
      const out = await read();
      assert.deepEqual(out.dataset.columns, [
        { name: 'x', type: 'integer' },
        { name: 'group', type: 'string', sensitive: true },
        { name: 'y', type: 'string' },
      ]);
      assert.deepEqual(out.summary, { rows: 8, columns: 3, missing: {} });
      const data = await loadDataset(ctx.artifacts, out.dataset);
      assert.deepEqual(data.columns[1], { name: 'group', type: 'string', sensitive: true });
      assert.equal(data.rows[4]!.group, SECRET, 'steps still read the values');
      assert.ok(data.rows.every((r) => !('name' in r)));
      assert.ok(!JSON.stringify(ctx.logs).includes(SECRET));
    });

    it('records the read in the audit trail as the principal who started the run', async () => {
      const out = await read();
      const store = await backend.open();
      const events = await store.audit.listAudit(SYSTEM, { action: 'dataset.read_sensitive' });
      const event = events.find((e) => e.subject === `dataset:${out.dataset.sha256}`);
      assert.ok(event, 'a dataset.read_sensitive event for the dataset');
      assert.equal(event.actor, 'alice');
      assert.deepEqual((event.after as { columns: string[] }).columns, ['group', 'name']);
    });

    it('fails a quality check on a tagged column without showing its values, in the error or the report', async () => {
      const { dataset } = await read();
      const checks = [
        { column: 'group', allowed: ['a'] },
        { column: 'group', unique: true },
        { column: 'group', distribution: { reference: dataset, maxPsi: 0.2, bins: 10 } },
      ];
      const failure = await checkQualityImpl.run({ dataset, checks, onFailure: 'fail' }, ctx).then(
        () => assert.fail('the checks should fail'),
        (error: unknown) => error,
      );
      assert.ok(failure instanceof ApplicationFailure);
      assert.match(failure.message, /column 'group' allowed \[a\]: 4 rows hold other values, such as hmac-sha256:/);
      assert.ok(failure.message.includes(hashForReport(SECRET)!), 'the keyed hash tells values apart');
      const details = failure.details?.[0] as { report: { uri: string } };
      const report = await ctx.artifacts.readJson<QualityReport>(details.report.uri);
      const written = JSON.stringify([failure.message, failure.details, report]);
      assert.ok(!written.includes(SECRET), written);
      assert.ok(!written.includes("'a'"), 'allowed values of the column are hashed too');
    });

    it('reports the observed range of a tagged numeric column only as keyed hashes', async () => {
      const ages = await writeInput(ctx, 'csv', 'age,y\n30,a\n4242,b\n41,a\n');
      const { dataset } = await readCsvImpl.run({ path: ages, sensitive: { age: 'hash' } }, ctx);
      const out = await checkQualityImpl.run(
        { dataset, checks: [{ column: 'age', min: 18, max: 100 }], onFailure: 'warn' },
        ctx,
      );
      assert.deepEqual(out.failures, [
        {
          column: 'age',
          rule: 'range',
          message: "column 'age' range [18, 100]: 1 row out of range (row 2)",
          count: 1,
          rows: [2],
        },
      ]);
      const report = await ctx.artifacts.readJson<QualityReport>(out.report.uri);
      assert.deepEqual(report.checks[0]!.observed, { min: hashForReport(30), max: hashForReport(4242) });
    });

    it('lets a fairness step group by a tagged column', async () => {
      const { dataset } = await read();
      const model = await linearModel(ctx.artifacts);
      const out = await evaluateFairnessImpl.run(
        { model, dataset, sensitive: 'group', threshold: 0.5, gates: [] },
        ctx,
      );
      assert.deepEqual(out.groupRows, { a: 4, [SECRET]: 4 });
      assert.equal(out.metrics.demographicParityDifference, 0.5);
    });

    it('does not name the one value of a tagged column a split cannot stratify by', async () => {
      const one = await writeInput(ctx, 'csv', `x,group\n1,${SECRET}\n2,${SECRET}\n3,${SECRET}\n`);
      const { dataset } = await readCsvImpl.run({ path: one, sensitive: { group: 'hash' } }, ctx);
      await assert.rejects(
        splitImpl.run({ dataset, testFraction: 0.5, seed: 1, stratifyBy: 'group' }, ctx),
        (error: unknown) => {
          assert.ok(error instanceof ApplicationFailure);
          const written = JSON.stringify([error.message, error.details]);
          assert.match(error.message, /all 3 rows have the value "hmac-sha256:/);
          assert.ok(!written.includes(SECRET), written);
          return true;
        },
      );
    });

    it('applies the same policy to JSON Lines', async () => {
      const jsonl = await writeInput(
        ctx,
        'jsonl',
        `{"x":1,"ssn":"${SECRET}","y":"yes"}\n{"x":2,"ssn":"s2","y":"no"}\n`,
      );
      const out = await readJsonlImpl.run({ path: jsonl, sensitive: { ssn: 'drop' } }, ctx);
      assert.deepEqual(
        out.dataset.columns.map((c) => c.name),
        ['x', 'y'],
      );
      const data = await loadDataset(ctx.artifacts, out.dataset);
      assert.ok(!JSON.stringify(data.rows).includes(SECRET));
    });

    it('refuses a policy naming a column the file does not have, or dropping the label', async () => {
      await rejectsWith(
        readCsvImpl.run({ path, sensitive: { age: 'hash' } }, ctx),
        /sensitive column 'age' is not in the data/,
      );
      await rejectsWith(
        readCsvImpl.run({ path, label: 'y', sensitive: { y: 'drop' } }, ctx),
        /the label 'y' cannot be dropped as sensitive/,
      );
    });
  });
}

describe('sensitive columns without a store', () => {
  it('refuses to read them, since the read could not be audited', async () => {
    const ctx = await testContext();
    try {
      const path = await writeInput(ctx, 'csv', CSV);
      await assert.rejects(
        readCsvImpl.run({ path, sensitive: { group: 'hash' } }, ctx),
        /reading sensitive columns \(group\) is audited, and this worker has no store/,
      );
    } finally {
      await ctx.dispose();
    }
  });
});

describe('the drift report', () => {
  it('does not judge a feature the training dataset tags sensitive, even when the log holds it in clear', () => {
    const reference = {
      columns: [
        { name: 'x', type: 'number' as const },
        { name: 'group', type: 'string' as const, sensitive: true as const },
      ],
      rows: [1, 2, 3, 4].map((x) => ({ x, group: SECRET })),
      label: null,
      classes: null,
      predictions: null,
    };
    const rows = [1, 2, 3, 4].map((x) => ({
      requestId: `r${x}`,
      features: { x, group: SECRET },
      probabilities: [0.5, 0.5],
      label: 'no',
      trueLabel: null,
      latencyMs: 1,
    }));
    const measures = measureWindow(reference, rows, monitorPolicy.parse({ minRows: 1, actions: {} }));
    assert.deepEqual(measures.masked, ['group']);
    assert.deepEqual(Object.keys(measures.features), ['x']);
    assert.ok(!JSON.stringify(measures).includes(SECRET));
  });
});
