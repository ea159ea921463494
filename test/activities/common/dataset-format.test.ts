import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  loadColumns,
  loadDataset,
  writeColumns,
  writeDataset,
  type Column,
} from '../../../activities/common/dataset/dataset';
import { withDuckdb } from '../../../activities/common/dataset/duckdb';
import { fileTestContext } from '../../support/step-context';
import { writeVersion1Dataset } from '../../support/version1-dataset';

const ctx = fileTestContext();

const columns: Column[] = [
  { name: 'id', type: 'integer' },
  { name: 'score', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'name "quoted"; --', type: 'string', sensitive: true },
];
const rows = [
  [1, 0.5, true, 'a'],
  [-9007199254740991, null, null, ''],
  [3, 1e-300, false, null],
];

describe('datasets stored as Parquet (version 2)', () => {
  it('round-trips every type, missing values and hostile column names, and starts with the Parquet magic', async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    assert.equal((await ctx.artifacts.read(ref.uri)).subarray(0, 4).toString(), 'PAR1');
    const data = await loadDataset(ctx.artifacts, ref);
    assert.deepEqual(data.columns, columns);
    assert.deepEqual(
      data.rows.map((row) => columns.map((c) => row[c.name])),
      rows,
    );
  });

  it('stores the same data as the same bytes, written by rows or by columns', async () => {
    const byRows = await writeDataset(ctx.artifacts, columns, rows);
    const byColumns = await writeColumns(
      ctx.artifacts,
      columns,
      [
        Float64Array.from(rows, (r) => r[0] as number),
        Float64Array.from(rows, (r) => (r[1] as number | null) ?? Number.NaN),
        rows.map((r) => r[2]!),
        rows.map((r) => r[3]!),
      ],
      rows.length,
    );
    assert.equal(byColumns.sha256, byRows.sha256);
  });

  it('reads chosen columns whole: numbers as Float64Array with NaN where missing', async () => {
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    const data = await loadColumns(ctx.artifacts, ref, ['score', 'ok']);
    assert.deepEqual(
      data.columns.map((c) => c.name),
      ['score', 'ok'],
    );
    assert.deepEqual([...(data.values.get('score') as Float64Array)], [0.5, Number.NaN, 1e-300]);
    assert.deepEqual(data.values.get('ok'), [true, null, false]);
    await assert.rejects(loadColumns(ctx.artifacts, ref, ['nope']), /has no column 'nope'/);
  });

  it('refuses a value of the wrong type, naming the row and the column, and stores nothing', async () => {
    await assert.rejects(
      writeDataset(ctx.artifacts, columns, [[1, 'lots', true, 'a']]),
      /row 1, column 2 \('score'\): string where number was expected/,
    );
  });

  it('still reads datasets stored as JSON Lines (version 1), by rows and by columns', async () => {
    const plain = columns.slice(0, 3);
    const objects = rows.map((r) => Object.fromEntries(plain.map((c, i) => [c.name, r[i]!])));
    const ref = await writeVersion1Dataset(ctx.artifacts, plain, objects);
    assert.deepEqual((await loadDataset(ctx.artifacts, ref)).rows, objects);
    const data = await loadColumns(ctx.artifacts, ref);
    assert.deepEqual(data.values.get('ok'), [true, null, false]);
  });

  it("refuses a Parquet file that is not a Kiln dataset, and a row count that is not the reference's", async () => {
    const path = `${ctx.artifacts.root}/foreign.parquet`;
    await withDuckdb((c) => c.run(`COPY (SELECT 1 AS x) TO '${path}' (FORMAT parquet)`));
    const stored = await ctx.artifacts.putFile(path);
    const foreign = { uri: stored.uri, rows: 1 };
    await assert.rejects(loadDataset(ctx.artifacts, foreign), /without a kiln\.dataset version 2 schema/);
    const ref = await writeDataset(ctx.artifacts, columns, rows);
    await assert.rejects(loadDataset(ctx.artifacts, { ...ref, rows: 2 }), /holds 3 rows but its reference says 2/);
  });

  it('keeps a dictionary for a column of few values, not for one of measurements, and writes no bloom filters', async () => {
    const rows = 30_000;
    const ref = await writeColumns(
      ctx.artifacts,
      [
        { name: 'measured', type: 'number' },
        { name: 'grade', type: 'integer' },
        { name: 'label', type: 'string' },
      ],
      [
        Float64Array.from({ length: rows }, (_, i) => i / 7),
        Float64Array.from({ length: rows }, (_, i) => i % 50),
        Array.from({ length: rows }, (_, i) => (i % 3 ? 'yes' : 'no')),
      ],
      rows,
    );
    const path = await ctx.artifacts.localPath(ref.uri);
    const chunks = await withDuckdb(async (c) =>
      (
        await c.runAndReadAll(
          `SELECT path_in_schema, encodings, bloom_filter_length FROM parquet_metadata('${path}') WHERE row_group_id = 0`,
        )
      ).getRowObjectsJS(),
    );
    const dictionary = (name: string) => String(chunks.find((c) => c.path_in_schema === name)?.encodings);
    assert.doesNotMatch(dictionary('measured'), /DICTIONARY/);
    assert.match(dictionary('grade'), /DICTIONARY/);
    assert.match(dictionary('label'), /DICTIONARY/);
    assert.ok(chunks.every((c) => c.bloom_filter_length === null || Number(c.bloom_filter_length) === 0));
  });

  it('reads text column-wise as by rows: short and long, multi-byte, missing, and more distinct values than it keeps decoded', async () => {
    // Strings of up to 12 bytes sit inline in DuckDB's vectors and are decoded once per column.
    const edge = [
      '',
      'a',
      'yes',
      'abcdefghijkl',
      'abcdefghijklm',
      'é',
      'émigré',
      '🔥🔥🔥',
      '🔥🔥🔥x',
      'a\u0000b',
      'a'.repeat(40),
    ];
    const text = Array.from({ length: 20_000 }, (_, i) =>
      i % 11 === 3 ? null : i % 3 === 0 ? `v${i}` : edge[i % edge.length]!,
    );
    // Few distinct values, long and short, read as an ENUM; a NUL (which SQL text cannot carry) keeps a column text.
    const few = text.map((_, i) => (i % 13 === 5 ? null : edge[i % edge.length]!));
    const noNul = few.map((v) => (v === 'a\u0000b' ? "it's" : v));
    const names = ['many', 'few', 'noNul'];
    const ref = await writeColumns(
      ctx.artifacts,
      names.map((name) => ({ name, type: 'string' as const })),
      [text, few, noNul],
      text.length,
    );
    const byColumns = (await loadColumns(ctx.artifacts, ref)).values;
    const { rows } = await loadDataset(ctx.artifacts, ref);
    for (const [name, values] of [
      ['many', text],
      ['few', few],
      ['noNul', noNul],
    ] as const) {
      assert.deepEqual(byColumns.get(name), values, name);
      assert.deepEqual(
        rows.map((row) => row[name]),
        values,
        name,
      );
    }
  });
});
