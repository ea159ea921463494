import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../../activities/data/read-csv';
import { readJsonlImpl } from '../../../activities/data/read-jsonl';
import { fileTestContext } from '../../support/step-context';
import { rejectsWith, writeInput } from '../../support/step-inputs';

const ctx = fileTestContext();

const jsonl = (text: string | Buffer) => writeInput(ctx, 'jsonl', text);

describe('data.readJsonl', () => {
  it('types columns from the JSON values and reads null, absent keys and missing tokens as missing', async () => {
    const path = await jsonl(
      [
        '{"id": 1, "score": 0.5, "ok": true, "name": "a, b"}',
        '{"id": 2, "score": null, "ok": false, "name": "NA"}',
        '',
        '{"id": 3, "score": 2, "name": "?", "extra": {"k": [1]}}',
        '{"id": -4, "score": "NaN", "ok": true, "name": ""}',
      ].join('\r\n'),
    );
    const out = await readJsonlImpl.run({ path }, ctx);
    assert.deepEqual(out.dataset.columns, [
      { name: 'id', type: 'integer' },
      { name: 'score', type: 'number' },
      { name: 'ok', type: 'boolean' },
      { name: 'name', type: 'string' },
      { name: 'extra', type: 'string' },
    ]);
    assert.deepEqual(out.summary, { rows: 4, columns: 5, missing: { score: 2, ok: 1, name: 3, extra: 3 } });
    const data = await loadDataset(ctx.artifacts, out.dataset);
    assert.deepEqual(data.rows, [
      { id: 1, score: 0.5, ok: true, name: 'a, b', extra: null },
      { id: 2, score: null, ok: false, name: null, extra: null },
      { id: 3, score: 2, ok: null, name: null, extra: '{"k":[1]}' },
      { id: -4, score: null, ok: true, name: null, extra: null },
    ]);
  });

  it('reads a column whose values mix numbers and strings as strings', async () => {
    const out = await readJsonlImpl.run({ path: await jsonl('{"v": 1}\n{"v": "x"}\n{"v": true}\n') }, ctx);
    assert.deepEqual(out.dataset.columns, [{ name: 'v', type: 'string' }]);
    assert.deepEqual(
      (await loadDataset(ctx.artifacts, out.dataset)).rows.map((r) => r.v),
      ['1', 'x', 'true'],
    );
  });

  it('gives the German credit data the same dataset, hash included, as readCsv', async () => {
    const fromCsv = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
    const { rows } = await loadDataset(ctx.artifacts, fromCsv.dataset);
    const path = await jsonl(rows.map((r) => JSON.stringify(r)).join('\n'));
    const fromJsonl = await readJsonlImpl.run({ path, label: 'class' }, ctx);
    assert.equal(fromJsonl.dataset.rows, 1000);
    assert.deepEqual(fromJsonl.dataset.columns, fromCsv.dataset.columns);
    assert.equal(fromJsonl.dataset.sha256, fromCsv.dataset.sha256);
  });

  it('reports the file it read, with the sha256 and size of its bytes, for lineage', async () => {
    const path = await jsonl('{"id": 1, "class": "good"}\n{"id": 2, "class": "bad"}\n');
    ctx.sources.length = 0;
    await readJsonlImpl.run({ path, label: 'class' }, ctx);
    const bytes = await readFile(path);
    assert.deepEqual(ctx.sources, [
      {
        kind: 'file',
        uri: pathToFileURL(path).href,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.byteLength,
      },
    ]);
  });

  it('honours declared types, accepting quoted numbers, and names the line and column of a value that does not fit', async () => {
    const out = await readJsonlImpl.run(
      {
        path: await jsonl('{"n": "7", "code": 7}\n{"n": 8.5, "code": 12}\n'),
        columns: { n: 'number', code: 'string' },
      },
      ctx,
    );
    assert.deepEqual(out.dataset.columns, [
      { name: 'n', type: 'number' },
      { name: 'code', type: 'string' },
    ]);
    assert.deepEqual((await loadDataset(ctx.artifacts, out.dataset)).rows, [
      { n: 7, code: '7' },
      { n: 8.5, code: '12' },
    ]);
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl('{"n": 1}\n{"n": 2.5}\n'), columns: { n: 'integer' } }, ctx),
      /line 2, column 'n': the value is not an integer \(the column is declared integer\)/,
    );
  });

  it('names the line and column of non-numeric garbage in a column declared number, in the German credit data', async () => {
    const fromCsv = await readCsvImpl.run({ path: 'examples/data/german-credit.csv' }, ctx);
    const { rows } = await loadDataset(ctx.artifacts, fromCsv.dataset);
    const lines = rows.map((r) => JSON.stringify(r));
    lines[416] = JSON.stringify({ ...rows[416], credit_amount: '12,500 DM' });
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl(lines.join('\n')), columns: { credit_amount: 'number' } }, ctx),
      /line 417, column 'credit_amount': the value is not a number \(the column is declared number\)/,
    );
  });

  it('names the line of malformed JSON and of a line that is not an object', async () => {
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl('{"a": 1}\n\n{"a": 2,}\n') }, ctx),
      /line 3 is not valid JSON/,
    );
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl('{"a": 1}\n[1, 2]\n') }, ctx),
      /line 2 is an array, not a JSON object/,
    );
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl('{"a": 1}\n{"a": 2}\n"text"\n') }, ctx),
      /line 3 is a string, not a JSON object/,
    );
  });

  it('rejects a label column that is not there, counting the keys, and a row without a label', async () => {
    const path = await jsonl('{"x": 1, "class": "good"}\n{"x": 2}\n');
    await rejectsWith(
      readJsonlImpl.run({ path, label: 'target' }, ctx),
      /label column 'target' not found in any line \(2 keys found\)/,
    );
    await rejectsWith(readJsonlImpl.run({ path, label: 'class' }, ctx), /line 2, column 'class': the label is missing/);
  });

  it('rejects a declared column no line has, an empty file and a file that is not UTF-8', async () => {
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl('{"x": 1}\n'), columns: { y: 'number' } }, ctx),
      /declared column 'y' not found in any line \(1 keys found\)/,
    );
    await rejectsWith(readJsonlImpl.run({ path: await jsonl('\n \n') }, ctx), /is empty/);
    await rejectsWith(
      readJsonlImpl.run({ path: await jsonl(Buffer.from([0x7b, 0x7d, 0x0a, 0xff, 0xfe, 0x0a])) }, ctx),
      /not valid UTF-8/,
    );
  });

  it('fails when the file is edited between its two reads, though the row count stays the same', async () => {
    // 10,000 lines: the first pass heartbeats after its last line, and the test edits the file there.
    const lines = (value: number) => `{"n": ${value}}\n`.repeat(10_000);
    const path = await jsonl(lines(1));
    let edited = false;
    const editing = {
      ...ctx,
      heartbeat: (details?: unknown) => {
        if (!edited && (details as { phase: string }).phase === 'scan') writeFileSync(path, lines(2));
        edited = true;
      },
    };
    await assert.rejects(
      readJsonlImpl.run({ path }, editing),
      /changed while it was being read \(sha256 [0-9a-f]{12}…, then [0-9a-f]{12}…\); read it again/,
    );
    assert.ok(edited);
  });
});
