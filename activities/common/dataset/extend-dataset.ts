import type { ArtifactStore } from '../../artifacts/store';
import { datasetRef, type DatasetRef } from '../../refs';
import type { Cell } from './cells';
import { ColumnTable } from './column-table';
import {
  DatasetFormatError,
  orderedRows,
  parquetDataset,
  writeDataset,
  type Column,
  type ColumnValues,
} from './dataset';
import { ident, literal, withDuckdb } from './duckdb';
import { copyToDataset, schemaOf, sqlType } from './parquet';

/**
 * Writes a dataset of `ref`'s rows with the `added` columns after its own; their values come from
 * `batches` (one array per added column, a batch of rows at a time, in row order) and must cover
 * every row. A version 2 dataset's own columns go from its file to the new one inside DuckDB,
 * side by side with the added ones, never through JS; a version 1 dataset's rows are read again.
 */
export async function extendDataset(
  artifacts: ArtifactStore,
  ref: DatasetRef,
  added: readonly Column[],
  batches: AsyncIterable<ColumnValues[]>,
): Promise<DatasetRef> {
  const clash = added.find((c) => ref.columns.some((own) => own.name === c.name));
  if (clash) throw new Error(`extendDataset: dataset ${ref.uri} already has a column '${clash.name}'`);
  const schema = schemaOf([...ref.columns, ...added]);
  const uncovered = () =>
    new DatasetFormatError(ref.uri, `the added columns' values do not match its ${ref.rows} rows one for one`);
  const parquet = await parquetDataset(artifacts, ref);
  if (!parquet) {
    async function* rows(): AsyncGenerator<Cell[]> {
      const values = batches[Symbol.asyncIterator]();
      let batch: ColumnValues[] = [];
      let at = 0;
      const used = () => at === (batch[0]?.length ?? 0);
      for await (const row of orderedRows(artifacts, ref)) {
        if (!Array.isArray(row)) continue;
        while (used()) {
          const next = await values.next();
          if (next.done) throw uncovered();
          [batch, at] = [next.value, 0];
        }
        yield [...row, ...batch.map((column) => column[at]!)];
        at++;
      }
      if (!used() || !(await values.next()).done) throw uncovered();
    }
    return writeDataset(artifacts, schema, rows());
  }
  const stored = await withDuckdb(async (connection) => {
    const table = await ColumnTable.create(connection, added);
    try {
      let given = 0;
      for await (const values of batches) {
        const rows = values[0]?.length ?? 0;
        table.append(values, rows);
        given += rows;
      }
      if (given !== ref.rows) throw uncovered();
      const have = new Set(parquet.header.columns.map((c) => c.name));
      const own = ref.columns.map(({ name, type }) =>
        have.has(name) ? `input.${ident(name)}` : `CAST(NULL AS ${sqlType(type)}) AS ${ident(name)}`,
      );
      // Two plain scans side by side: DuckDB reads them in step, row for row (a positional scan).
      const select = `SELECT ${[...own, table.finish('added')].join(', ')} FROM read_parquet(${literal(parquet.path)}) AS input POSITIONAL JOIN ${table.name} AS added`;
      return await copyToDataset(
        connection,
        artifacts,
        select,
        schema,
        async (_, written) => written.rows === ref.rows,
      );
    } finally {
      await table.drop();
    }
  });
  if (!stored) throw new DatasetFormatError(ref.uri, `does not hold the ${ref.rows} rows its reference says`);
  return datasetRef.parse({ kind: 'dataset', ...stored, rows: ref.rows, columns: schema });
}
