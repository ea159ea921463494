import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { readJsonlImpl } from '../../../activities/data/read-jsonl';
import { importOnnxImpl } from '../../../activities/model/import-onnx';
import { testContext } from '../../support/step-context';

// A pipeline author who can start runs tries to read the worker's secrets back through the
// file readers: the admin token under KILN_HOME, the process environment, system files.

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
const SECRET = 'kiln-secret-4f1c9a';
const base = realpathSync(mkdtempSync(join(tmpdir(), 'kiln-roots-')));
const root = join(base, 'data');
const outside = join(base, 'outside');

before(async () => {
  ctx = await testContext();
  mkdirSync(join(root, '.kiln'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, '.kiln', 'token'), `${SECRET}\n`);
  writeFileSync(join(outside, 'secret.csv'), `${SECRET},b\n1,2\n`);
  writeFileSync(join(root, 'ok.csv'), 'x,y\n1,a\n2,b\n');
  symlinkSync(join(outside, 'secret.csv'), join(root, 'link.csv'));
  symlinkSync('/etc/passwd', join(root, 'passwd.csv'));
  process.env.KILN_DATA_ROOTS = root;
  process.env.KILN_HOME = join(root, '.kiln');
  process.env.KILN_TEST_SECRET = SECRET;
});
after(async () => {
  await ctx.dispose();
  rmSync(base, { recursive: true, force: true });
});

const signature = { inputs: [{ name: 'x', type: 'float32' as const, shape: [null, 1] }], outputs: [] };

/** Each reader is refused with a non-retryable InvalidInput naming the path and the roots, and echoes nothing of the file. */
async function refused(path: string) {
  // One at a time: a reader started early could be refused before its rejection had a handler.
  const attempts = [
    () => readCsvImpl.run({ path }, ctx),
    () => readJsonlImpl.run({ path }, ctx),
    () => importOnnxImpl.run({ path, signature }, ctx),
  ];
  for (const attempt of attempts) {
    await assert.rejects(attempt(), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
      assert.equal(error.type, 'InvalidInput');
      assert.equal(error.nonRetryable, true);
      assert.ok(error.message.includes(root), error.message);
      assert.match(error.message, /data roots/);
      const everything = JSON.stringify([error.message, error.details]);
      assert.ok(!everything.includes(SECRET) && !everything.includes('root:x:'), everything);
      return true;
    });
  }
}

describe('data roots', () => {
  it('refuses the token under KILN_HOME even though KILN_HOME lies inside a data root', async () => {
    await refused(join(root, '.kiln', 'token'));
  });

  it('refuses /proc/self/environ and /etc/passwd', async () => {
    await refused('/proc/self/environ');
    await refused('/etc/passwd');
  });

  it('refuses a symlink inside a root that points outside it', async () => {
    await refused(join(root, 'link.csv'));
    await refused(join(root, 'passwd.csv'));
  });

  it('refuses ../ traversal out of a root, absolute and relative', async () => {
    await refused(`${root}/../outside/secret.csv`);
    const cwd = process.cwd();
    process.chdir(root);
    try {
      await refused(`../${basename(outside)}/secret.csv`);
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses paths outside the working directory when KILN_DATA_ROOTS is unset', async () => {
    delete process.env.KILN_DATA_ROOTS;
    const cwd = process.cwd();
    process.chdir(root);
    try {
      await refused(`../outside/secret.csv`);
      await refused('.kiln/token');
      const out = await readCsvImpl.run({ path: 'ok.csv' }, ctx);
      assert.equal(out.summary.rows, 2);
    } finally {
      process.chdir(cwd);
      process.env.KILN_DATA_ROOTS = root;
    }
  });

  it('reads a file inside a root as before', async () => {
    const out = await readCsvImpl.run({ path: join(root, 'ok.csv') }, ctx);
    assert.deepEqual(out.dataset.columns, [
      { name: 'x', type: 'integer' },
      { name: 'y', type: 'string' },
    ]);
    assert.deepEqual(out.summary, { rows: 2, columns: 2, missing: {} });
  });

  it('echoes no content of a malformed file inside a root into its error', async () => {
    const cases: Array<[string, string, (path: string) => Promise<unknown>]> = [
      ['dup.csv', `${SECRET},${SECRET}\n1,2\n`, (path) => readCsvImpl.run({ path }, ctx)],
      ['ragged.csv', `a,${SECRET}\n1\n`, (path) => readCsvImpl.run({ path }, ctx)],
      ['label.csv', `a,${SECRET}\n1,2\n`, (path) => readCsvImpl.run({ path, label: 'class' }, ctx)],
      ['typed.csv', `a\n${SECRET}\n`, (path) => readCsvImpl.run({ path, columns: { a: 'number' } }, ctx)],
      ['quote.csv', `a,${SECRET}\n1,"${SECRET}\n`, (path) => readCsvImpl.run({ path }, ctx)],
      ['bad.jsonl', `{"${SECRET}": 1,}\n`, (path) => readJsonlImpl.run({ path }, ctx)],
      ['label.jsonl', `{"${SECRET}": 1}\n`, (path) => readJsonlImpl.run({ path, label: 'class' }, ctx)],
      ['typed.jsonl', `{"a": "${SECRET}"}\n`, (path) => readJsonlImpl.run({ path, columns: { a: 'number' } }, ctx)],
      ['huge.jsonl', `{"${SECRET}": 1e999}\n`, (path) => readJsonlImpl.run({ path }, ctx)],
    ];
    for (const [name, text, read] of cases) {
      const path = join(root, name);
      writeFileSync(path, text);
      await assert.rejects(read(path), (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure, `${name}: ${String(error)}`);
        assert.equal(error.type, 'InvalidData', name);
        const everything = JSON.stringify([error.message, error.details]);
        assert.ok(!everything.includes(SECRET), `${name} echoed the file: ${everything}`);
        return true;
      });
    }
  });
});
