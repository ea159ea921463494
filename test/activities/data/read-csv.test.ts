import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl, readCsvRows } from '../../../activities/data/read-csv';
import { fileTestContext } from '../../support/step-context';
import { rejectsWith, writeInput } from '../../support/step-inputs';

const ctx = fileTestContext();

const csv = (text: string | Buffer) => writeInput(ctx, 'csv', text);

describe('data.readCsv', () => {
  it('infers integer, number, boolean and string columns and reads missing tokens as null', async () => {
    const path = await csv('id,score,ok,name\n1,0.5,true,"a, b"\n2,?,FALSE,NA\n3,1e3,,c\n-4,NaN,true, d \n');
    const out = await readCsvImpl.run({ path }, ctx);
    assert.deepEqual(out.dataset.columns, [
      { name: 'id', type: 'integer' },
      { name: 'score', type: 'number' },
      { name: 'ok', type: 'boolean' },
      { name: 'name', type: 'string' },
    ]);
    assert.deepEqual(out.summary, { rows: 4, columns: 4, missing: { score: 2, ok: 1, name: 1 } });
    const data = await loadDataset(ctx.artifacts, out.dataset);
    assert.deepEqual(data.rows, [
      { id: 1, score: 0.5, ok: true, name: 'a, b' },
      { id: 2, score: null, ok: false, name: null },
      { id: 3, score: 1000, ok: null, name: 'c' },
      { id: -4, score: null, ok: true, name: ' d ' },
    ]);
  });

  it('stores identical data once: line ends, BOM and quoting do not change the hash', async () => {
    const a = await readCsvImpl.run({ path: await csv('x,y\n1,a\n2,b\n') }, ctx);
    const b = await readCsvImpl.run({ path: await csv('\uFEFF"x","y"\r\n1,"a"\r\n2,b') }, ctx);
    assert.equal(a.dataset.sha256, b.dataset.sha256);
  });

  it('honours declared types and names the line and column of a value that does not fit', async () => {
    const path = await csv('code,n\n007,1\n012,2\n');
    const out = await readCsvImpl.run({ path, columns: { code: 'string' } }, ctx);
    assert.deepEqual(out.dataset.columns, [
      { name: 'code', type: 'string' },
      { name: 'n', type: 'integer' },
    ]);
    await rejectsWith(
      readCsvImpl.run({ path: await csv('a,n\nx,1\ny,2.5\n'), columns: { n: 'integer' } }, ctx),
      /line 3, column 'n': the value is not an integer/,
    );
  });

  it('names the line of a ragged row', async () => {
    const path = await csv('a,b,c\n1,2,3\n4,5\n6,7,8\n');
    await rejectsWith(
      readCsvImpl.run({ path }, ctx),
      /line 3 has 2 fields but the header on line 1 has 3: column 3 onwards is missing/,
    );
    await rejectsWith(
      readCsvImpl.run({ path: await csv('a,b\n1,2\n"x\ny",2,3\n') }, ctx),
      /line 3 has 3 fields.*extra field/,
    );
  });

  it('names the line and column where an unterminated quote opened', async () => {
    const path = await csv('a,b\n1,2\n3,"never closed\n4,5\n');
    await rejectsWith(readCsvImpl.run({ path }, ctx), /line 3, column 2: a quoted field opened here is never closed/);
  });

  it('rejects an empty file', async () => {
    await rejectsWith(readCsvImpl.run({ path: await csv('') }, ctx), /is empty/);
    await rejectsWith(readCsvImpl.run({ path: await csv('\n\n') }, ctx), /is empty/);
  });

  it('rejects a file with only a header', async () => {
    await rejectsWith(readCsvImpl.run({ path: await csv('a,b,c\r\n') }, ctx), /header on line 1 but no data rows/);
  });

  it('rejects duplicate and empty header names', async () => {
    await rejectsWith(
      readCsvImpl.run({ path: await csv('a,b,a\n1,2,3\n') }, ctx),
      /columns 1 and 3 of the header have the same name/,
    );
    await rejectsWith(readCsvImpl.run({ path: await csv('a,,c\n1,2,3\n') }, ctx), /column 2 of the header has no name/);
  });

  it('rejects a missing label and a label column that is not there', async () => {
    const path = await csv('x,class\n1,good\n2,?\n');
    await rejectsWith(readCsvImpl.run({ path, label: 'class' }, ctx), /line 3, column 'class': the label is missing/);
    await rejectsWith(readCsvImpl.run({ path, label: 'target' }, ctx), /label column 'target' is not in the header/);
  });

  it('rejects a file that does not exist or is not UTF-8', async () => {
    await rejectsWith(readCsvImpl.run({ path: join(ctx.artifacts.root, 'nope.csv') }, ctx), /does not exist/);
    await rejectsWith(
      readCsvImpl.run({ path: await csv(Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a])) }, ctx),
      /not valid UTF-8/,
    );
  });

  it('reads the German credit data: 1000 rows, 21 columns, integers and strings', async () => {
    const out = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    assert.equal(out.summary.rows, 1000);
    assert.equal(out.summary.columns, 21);
    const types = Object.fromEntries(out.dataset.columns.map((c) => [c.name, c.type]));
    assert.equal(types.duration, 'integer');
    assert.equal(types.credit_amount, 'integer');
    assert.equal(types.checking_status, 'string');
    assert.equal(types.class, 'string');
  });

  it('fails when the file is edited between its two reads, though the row count stays the same', async () => {
    // 10,000 rows: the first pass heartbeats after its last row, and the test edits the file there.
    const rows = (value: string) => `s\n${`${value}\n`.repeat(10_000)}`;
    const path = await csv(rows('a'));
    let edited = false;
    const editing = {
      ...ctx,
      heartbeat: (details?: unknown) => {
        if (!edited && (details as { phase: string }).phase === 'scan') writeFileSync(path, rows('b'));
        edited = true;
      },
    };
    // The row reader's two passes (a clean file like this one is read by DuckDB in one).
    await assert.rejects(
      readCsvRows(editing, path, { path }),
      /changed while it was being read \(sha256 [0-9a-f]{12}…, then [0-9a-f]{12}…\); read it again/,
    );
    assert.ok(edited);
  });
});
