import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import {
  DatasetFormatError,
  loadColumns,
  loadDataset,
  writeColumns,
  writeDataset,
  type Column,
  type ColumnValues,
} from '../../../activities/common/dataset/dataset';
import type { Cell } from '../../../activities/common/dataset/cells';
import { extendDataset } from '../../../activities/common/dataset/extend-dataset';
import { fileTestContext } from '../../support/step-context';
import { writeVersion1Dataset } from '../../support/version1-dataset';

const ctx = fileTestContext();
/** Every file below the artifact store's root: what is stored, and what a write left behind. */
const files = async () => (await readdir(ctx.artifacts.root, { recursive: true })).sort();

const own: Column[] = [
  { name: 'id', type: 'integer' },
  { name: 'name "quoted"; --', type: 'string', sensitive: true },
];
const added: Column[] = [
  { name: 'label', type: 'string' },
  { name: 'p', type: 'number' },
];
const ownRows = (n: number): Cell[][] => Array.from({ length: n }, (_, i) => [i, i % 7 === 0 ? null : `n${i % 13}`]);
const addedOf = (ids: readonly number[]): ColumnValues[] => [
  ids.map((i) => (i % 2 ? 'odd' : 'even')),
  Float64Array.from(ids, (i) => (i % 11 === 0 ? Number.NaN : i / 4)),
];

/** The added values of rows [0, n) in batches of the given sizes, cycling through them. */
async function* batches(n: number, sizes: number[]): AsyncGenerator<ColumnValues[]> {
  for (let start = 0, k = 0; start < n; k++) {
    const end = Math.min(n, start + sizes[k % sizes.length]!);
    yield addedOf(Array.from({ length: end - start }, (_, i) => start + i));
    start = end;
  }
}

const written = async (n: number) => {
  const rows = ownRows(n);
  const whole = addedOf(rows.map((_, i) => i));
  return writeDataset(
    ctx.artifacts,
    [...own, ...added],
    rows.map((row, i) => [...row, ...whole.map((column) => column[i]!)]),
  );
};

describe("extendDataset: added columns beside a dataset's own", () => {
  it('stores the same bytes as writing every row whole, across row groups and uneven batches', async () => {
    // More rows than a Parquet row group (122,880), so DuckDB reads the file in several pieces.
    const n = 300_000;
    const dataset = await writeDataset(ctx.artifacts, own, ownRows(n));
    const extended = await extendDataset(ctx.artifacts, dataset, added, batches(n, [8192, 7, 65_536, 1]));
    const expected = await written(n);
    assert.equal(extended.sha256, expected.sha256);
    assert.deepEqual(extended.columns, [...own, ...added]);
    const { values } = await loadColumns(ctx.artifacts, extended, ['id', 'p']);
    const ids = values.get('id') as Float64Array;
    assert.ok(ids.every((id, i) => id === i));
  });

  it("reads a version 1 dataset's rows again and stores what writing them whole would", async () => {
    const rows = ownRows(50);
    const v1 = await writeVersion1Dataset(
      ctx.artifacts,
      own,
      rows.map((row) => Object.fromEntries(own.map((c, i) => [c.name, row[i]!]))),
    );
    const extended = await extendDataset(ctx.artifacts, v1, added, batches(50, [16]));
    assert.equal(extended.sha256, (await written(50)).sha256);
  });

  it("reads a column the reference names and the file lacks as missing, as the dataset's readers do", async () => {
    const dataset = await writeColumns(ctx.artifacts, own, [Float64Array.of(1, 2), ['a', 'b']], 2);
    const ref = { ...dataset, columns: [...dataset.columns, { name: 'later', type: 'number' as const }] };
    const extended = await extendDataset(ctx.artifacts, ref, added, batches(2, [2]));
    const { rows } = await loadDataset(ctx.artifacts, extended);
    assert.deepEqual(
      rows.map((r) => [r.id, r.later, r.label]),
      [
        [1, null, 'even'],
        [2, null, 'odd'],
      ],
    );
  });

  it('refuses an added column the dataset already has', async () => {
    const dataset = await writeDataset(ctx.artifacts, own, ownRows(3));
    await assert.rejects(
      extendDataset(ctx.artifacts, dataset, [{ name: 'id', type: 'number' }], batches(3, [3])),
      /already has a column 'id'/,
    );
  });

  for (const [what, given] of [
    ['fewer', 99],
    ['more', 101],
  ] as const) {
    it(`fails on ${what} added values than rows, for either version, and stores nothing`, async () => {
      const dataset = await writeDataset(ctx.artifacts, own, ownRows(100));
      const v1 = await writeVersion1Dataset(
        ctx.artifacts,
        own,
        ownRows(100).map((row) => Object.fromEntries(own.map((c, i) => [c.name, row[i]!]))),
      );
      for (const ref of [dataset, v1]) {
        const before = await files();
        await assert.rejects(
          extendDataset(ctx.artifacts, ref, added, batches(given, [30])),
          (error) => error instanceof DatasetFormatError && /do not match its 100 rows one for one/.test(error.message),
        );
        assert.deepEqual(await files(), before);
      }
    });
  }
});
