import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadColumns, loadDataset } from '../../../activities/common/dataset/dataset';
import { headOf, readCsvImpl, readCsvRows } from '../../../activities/data/read-csv';
import { readCsvWithDuckdb } from '../../../activities/data/read-csv-duckdb';
import { fileTestContext, type TestContext } from '../../support/step-context';
import { writeInput } from '../../support/step-inputs';

// data.readCsv reads a file with DuckDB only where the result is the row reader's: these tests
// read each file both ways and compare, and check that the DuckDB path declines where DuckDB
// reads differently.

type Input = Parameters<typeof readCsvRows>[2];
const ctx = fileTestContext();

const csv = (text: string | Buffer) => writeInput(ctx, 'csv', text);
/** More rows than the DuckDB path types columns from. */
const SAMPLED = 1500;
const headOfFile = async (path: string) => (await headOf(path))!;

/** Reads `path` both ways; answers the DuckDB path's result after checking it equals the row reader's. */
async function bothWays(path: string, options: Omit<Input, 'path'> = {}, on = ctx) {
  const input = { path, ...options };
  const rows = await readCsvRows(on, path, input);
  const duck = await readCsvWithDuckdb(on, path, input, await headOfFile(path));
  if (!duck) return undefined;
  assert.deepEqual(duck.dataset.columns, rows.dataset.columns);
  assert.deepEqual(duck.summary, rows.summary);
  assert.deepEqual(
    (await loadDataset(ctx.artifacts, duck.dataset)).rows,
    (await loadDataset(ctx.artifacts, rows.dataset)).rows,
  );
  assert.equal(duck.dataset.sha256, rows.dataset.sha256, 'the same data stores as the same bytes, either way');
  assert.deepEqual(ctx.sources.at(-1), ctx.sources.at(-2), 'both report the same bytes as the source');
  return duck;
}

describe('data.readCsv with DuckDB', () => {
  for (const file of ['german-credit.csv', 'cps-wages-1985.csv', 'sensor-network-stream.csv']) {
    it(`reads ${file} as the row reader does`, async () => {
      const path = resolve('examples', 'data', file);
      assert.ok(await bothWays(path), 'a clean vendored file is read by DuckDB');
    });
  }

  it('keeps text as written, quoting and missing tokens as the row reader reads them', async () => {
    const text = 'id,score,name,note\n1,0.5,"a, b", x \n2,?,NA,"q""r"\n3,1e3,,"multi\nline"\n-4,NaN,"",?\n';
    const duck = await bothWays(await csv(text));
    assert.ok(duck);
    assert.deepEqual(duck.summary.missing, { score: 2, name: 3, note: 1 });
  });

  it('reads CRLF line ends, a BOM and blank lines', async () => {
    const text = '\uFEFFx,y\r\n1,a\r\n\r\n2,b\r\n';
    assert.ok(await bothWays(await csv(text)));
  });

  it('honours declared number and string columns, the label and sensitive columns', async () => {
    const text = 'code,amount,ssn,class\n007,1,123-45,good\n012,2,678-90,bad\n';
    // Reading a sensitive column is audited: a store that takes the record.
    const audited = { ...ctx, store: { audit: { readSensitive: async () => {} } } } as unknown as TestContext;
    const duck = await bothWays(
      await csv(text),
      {
        columns: { code: 'string', amount: 'number' },
        label: 'class',
        sensitive: { ssn: 'drop' },
      },
      audited,
    );
    assert.deepEqual(duck?.dataset.columns, [
      { name: 'code', type: 'string' },
      { name: 'amount', type: 'number' },
      { name: 'class', type: 'string' },
    ]);
  });

  it('reads hostile column names and file names as data, never as SQL', async () => {
    const text = `"a""; DROP TABLE x; --",it's,"} , {"\n1,2,3\n4,5,6\n`;
    const path = join(ctx.artifacts.root, `it's"; --.csv`);
    await writeFile(path, text);
    const duck = await bothWays(path);
    assert.deepEqual(
      duck?.dataset.columns.map((c) => c.name),
      ['a"; DROP TABLE x; --', "it's", '} , {'],
    );
  });

  const declines: Array<[string, string, Omit<Input, 'path'>?]> = [
    ['numbers DuckDB reads and the row reader does not (1_000)', 'n\n1_000\n2\n'],
    ['hexadecimal', 'n\n0x10\n2\n'],
    ['a non-finite number', 'n\n1.5\ninf\n'],
    ['a negative infinity', 'n\n1.5\n-inf\n'],
    ['a NaN the row reader does not read as missing (nan)', 'n\n1.5\nnan\n'],
    ['a non-finite number past the first row group', `n\n${'1.5\n'.repeat(200_000)}inf\n`],
    ['a number beyond a double', 'n\n1.5\n1e400\n'],
    ['a missing token with spaces in a number column', 'n,m\n1,1\n NA ,2\n'],
    ['a missing token with spaces in a text column', 'n,s\n1,a\n2, NA \n'],
    ['a missing token with spaces in the last of several text columns', 'n,s,t,u\n1,a,b,c\n2,d,e, NA \n'],
    // A sample of only missing values proves nothing: the row reader types the column from what follows.
    ['numbers past a sample of only missing values', `n,m\n${'NA,a\n'.repeat(SAMPLED)}5,b\n`],
    ['a blank (spaces only) text value', 'n,s\n1,a\n2,   \n'],
    ['a boolean column', 'ok,n\ntrue,1\nFALSE,2\n'],
    // Past the sampled rows, an integer the row reader reads and the guard does not: no reason to widen.
    ['an integer padded with a tab in a column sampled as integers', `n\n${'1\n'.repeat(SAMPLED)}\t12\n`],
    ['a header after a blank line', '\na,b\n1,2\n'],
    ['an integer beyond 2^53 past the first row group', `n\n${'1\n'.repeat(200_000)}9007199254740993\n`],
    ['a declared integer column', 'n\n1\n2\n', { columns: { n: 'integer' } }],
    ['a missing label', 'x,class\n1,a\n2,\n', { label: 'class' }],
    ['a ragged row', 'a,b\n1,2\n3\n'],
    ['a row too long', 'a,b\n1,2,3\n'],
    ['a lone CR', 'a,b\r1,2\r'],
    ['text after a closing quote', 'a,b\n1,x\n2,"y"z\n'],
    ['a quote never closed', 'a,b\n1,x\n2,"y\n'],
    ['text after a closing quote in a dropped column', 'a,b\n1,x\n2,"y"z\n', { sensitive: { b: 'drop' } }],
    ['a header without rows', 'a,b\n'],
  ];
  for (const [what, text, options] of declines) {
    it(`leaves ${what} to the row reader`, async () => {
      const path = await csv(text);
      // A file whose first rows the parser refuses never reaches DuckDB: the row reader's error stands.
      const head = await headOf(path).catch(() => undefined);
      assert.equal(head && (await readCsvWithDuckdb(ctx, path, { path, ...options }, head)), undefined);
    });
  }

  // Columns are typed from the first rows; a value past them that does not fit its column's type
  // (spellings DuckDB's integer cast would take among them) widens the column as the row reader would.
  const widened: Array<[string, string, string]> = [
    ['a decimal in a column sampled as integers', `n,m\n${'1,a\n'.repeat(SAMPLED)}1.5,b\n`, 'number'],
    ['an exponent in a column sampled as integers', `n,m\n${'1,a\n'.repeat(SAMPLED)}1e3,b\n`, 'number'],
    ['a binary literal in a column sampled as integers', `n,m\n${'1,a\n'.repeat(SAMPLED)}0b101,b\n`, 'string'],
    ['text in a column sampled as integers', `n,m\n${'1,a\n'.repeat(SAMPLED)}x,b\n`, 'string'],
    ['text in a column sampled as numbers', `n,m\n${'1.5,a\n'.repeat(SAMPLED)}x,b\n`, 'string'],
    ['a decimal, then text, in a column sampled as integers', `n\n${'1\n'.repeat(SAMPLED)}1.5\nx\n`, 'string'],
    ['text in a hostile column name', `"a"". Could not convert",m\n${'1.5,a\n'.repeat(SAMPLED)}x,b\n`, 'string'],
  ];
  for (const [what, text, type] of widened) {
    it(`reads ${what} as the row reader does`, async () => {
      const duck = await bothWays(await csv(text));
      assert.equal(duck?.dataset.columns[0]?.type, type);
    });
  }

  it('reads a column its sample proves text as text, whatever follows, as the row reader does', async () => {
    for (const first of ['abc', 'true\nmaybe']) {
      const duck = await bothWays(await csv(`s\n${first}\n${'1\n'.repeat(SAMPLED)}`));
      assert.equal(duck?.dataset.columns[0]?.type, 'string');
    }
  });

  it('leaves a column it would widen to the row reader where the column is declared', async () => {
    const path = await csv(`n\n${'1.5\n'.repeat(SAMPLED)}x\n`);
    const input = { path, columns: { n: 'number' as const } };
    assert.equal(await readCsvWithDuckdb(ctx, path, input, await headOfFile(path)), undefined);
    await assert.rejects(
      readCsvImpl.run(input, ctx),
      new RegExp(`line ${SAMPLED + 2}, column 'n': the value is not a number`),
    );
  });

  // The row reader trims as JavaScript does: tabs, no-break spaces and the other Unicode spaces too.
  const padded: Array<[string, string]> = [
    ['numbers padded with no-break spaces', 'n,m\n\u00A012,1\n3\u00A0,2\n'],
    ['numbers padded with tabs', 'n,m\n\t12,1\n3\t,2\n'],
    ['numbers padded with ideographic and zero-width no-break spaces', 'n,m\n\u300012,1\n3\uFEFF,2\n'],
    ['booleans padded with no-break spaces', 'b,m\n\u00A0true,1\nfalse\u00A0,2\n'],
    ['a missing token padded with a no-break space', 'n,s\n1,a\n2,\u00A0NA\n'],
    ['a missing token padded with a tab', 'n,s\n1,a\n2,NA\t\n'],
  ];
  for (const [what, text] of padded) {
    it(`reads ${what} as the row reader does, or leaves them to it`, async () => {
      await bothWays(await csv(text));
    });
  }

  // Past the first rows, which the row reader's parser reads first and would name.
  const clean = Buffer.from(`a,b\n${'1,x\n'.repeat(SAMPLED * 20)}`);
  it('leaves invalid UTF-8 to the row reader, which names the file', async () => {
    const path = await csv(Buffer.concat([clean, Buffer.from([0x31, 0x2c, 0xff, 0xfe, 0x0a])]));
    assert.equal(await readCsvWithDuckdb(ctx, path, { path }, await headOfFile(path)), undefined);
    await assert.rejects(readCsvImpl.run({ path }, ctx), /is not valid UTF-8 text/);
  });

  it('leaves invalid UTF-8 in a column it drops to the row reader', async () => {
    const path = await csv(Buffer.concat([clean, Buffer.from([0x31, 0x2c, 0xff, 0xfe, 0x0a])]));
    const input = { path, sensitive: { b: 'drop' as const } };
    assert.equal(await readCsvWithDuckdb(ctx, path, input, await headOfFile(path)), undefined);
    await assert.rejects(readCsvImpl.run(input, ctx), /is not valid UTF-8 text/);
  });

  /** Rows of `1,xxx…` and then `tail`, which starts `offset` bytes before the end of the scan's first 1 MiB read. */
  const acrossRead = (tail: Buffer, offset: number) => {
    const fill = (1 << 20) - offset - 'n,s\n'.length;
    const row = `1,${'x'.repeat(1021)}\n`;
    const rows = row.repeat(Math.floor(fill / row.length));
    return Buffer.concat([Buffer.from(`n,s\n${rows}1,`.padEnd(fill + 4, 'x')), tail]);
  };
  for (const [what, char] of [
    ['two', 'é'],
    ['three', '€'],
    ['four', '🔥'],
  ] as const) {
    it(`reads a ${what}-byte character that one read of the file cuts`, async () => {
      const bytes = Buffer.from(char);
      for (let offset = 1; offset < bytes.byteLength; offset++) {
        const text = acrossRead(Buffer.concat([bytes, Buffer.from('y\n2,z\n')]), offset);
        assert.equal(text.subarray((1 << 20) - offset, (1 << 20) - offset + bytes.byteLength).toString(), char);
        assert.ok(await bothWays(await csv(text)), `cut ${offset} byte(s) into ${char}`);
      }
    });
  }

  it('leaves a lone CR that ends one read of the file to the row reader', async () => {
    const path = await csv(acrossRead(Buffer.from('\r2,y\n'), 1));
    assert.equal(await readCsvWithDuckdb(ctx, path, { path }, await headOfFile(path)), undefined);
  });

  it('reads integers with a sign, and integers beyond 2^53 as numbers, as the row reader does', async () => {
    for (const [text, type] of [
      ['n\n1\n+2\n', 'integer'],
      ['n\n1\n9007199254740993\n', 'number'],
      ['n\n1\n-9007199254740993\n', 'number'],
    ]) {
      const duck = await bothWays(await csv(text!));
      assert.equal(duck?.dataset.columns[0]?.type, type, text);
    }
  });

  it('stores columns that read back column-wise, numbers as Float64Array with NaN where missing', async () => {
    const text = 'n,s\n1.5,a\n?,b\n3,\n';
    const duck = await bothWays(await csv(text));
    assert.ok(duck);
    const data = await loadColumns(ctx.artifacts, duck.dataset);
    assert.deepEqual([...(data.values.get('n') as Float64Array)], [1.5, Number.NaN, 3]);
    assert.deepEqual(data.values.get('s'), ['a', 'b', null]);
  });
});
