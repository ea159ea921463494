import { implement } from '../library';
import type { Cell } from '../common/dataset/cells';
import { loadColumns, readDatasetValues, writeDataset, type Column } from '../common/dataset/dataset';
import { ident, literal, withDuckdb } from '../common/dataset/duckdb';
import { copyToDataset } from '../common/dataset/parquet';
import { invalidData } from '../common/failures';
import { datasetRef, type DatasetRef } from '../refs';
import { parquetFileOf, storedColumns } from './dataset-file';
import { thresholdLabel } from './steps';

/** The median of finite numbers: the middle value, or the mean of the two middle values. */
export function median(values: readonly number[] | Float64Array): number {
  if (values.length === 0) throw new RangeError('the median of no values is undefined');
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const thresholdLabelImpl = implement(thresholdLabel, async (input, ctx) => {
  const { dataset, column, label, above, atOrBelow } = input;
  const names = dataset.columns.map((c) => c.name);
  const source = names.indexOf(column);
  if (source < 0) {
    throw invalidData(`cannot threshold '${column}': the dataset has no such column; columns are ${names.join(', ')}`, {
      column,
    });
  }
  const type = dataset.columns[source]!.type;
  if (type !== 'number' && type !== 'integer') {
    throw invalidData(
      `cannot threshold '${column}': it holds ${type} values, not numbers; threshold a numeric column`,
      { column, type },
    );
  }
  if (label !== column && names.includes(label)) {
    throw invalidData(`the label '${label}' would replace the existing column '${label}'; choose another label name`, {
      label,
    });
  }
  if (above === atOrBelow) {
    throw invalidData(`both classes are named '${above}'; a binary label needs two different class names`, {
      above,
      atOrBelow,
    });
  }

  // Only the source column is read here; the other columns go from file to file in DuckDB.
  const values = (await loadColumns(ctx.artifacts, dataset, [column])).values.get(column) as Float64Array;
  // A label cannot be missing, so neither can the value it is derived from.
  const missing = values.findIndex(Number.isNaN);
  if (missing >= 0) {
    throw invalidData(`row ${missing + 1} has no value for '${column}'; every row needs one to get a label`, {
      column,
      row: missing + 1,
    });
  }
  if (values.length === 0) throw invalidData(`the dataset has no rows to label`, { column });

  const threshold = input.threshold === 'median' ? median(values) : input.threshold;
  let high = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v > threshold) high++;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  if (high === 0 || high === values.length) {
    throw invalidData(
      `a threshold of ${threshold} puts every row of '${column}' (${min} to ${max}) in class '${high === 0 ? atOrBelow : above}'; choose a threshold between its values`,
      { column, threshold, min, max },
    );
  }
  ctx.heartbeat({ phase: 'threshold chosen', threshold, rows: values.length });

  const file = await parquetFileOf(ctx.artifacts, dataset);
  let written: DatasetRef;
  if (file) {
    const outColumns: Column[] = [
      ...file.header.columns.filter((c) => c.name !== column),
      { name: label, type: 'string' },
    ];
    // The threshold crosses as the shortest text that reads back as the same double.
    const select =
      `SELECT ${[
        ...file.header.columns.filter((c) => c.name !== column).map((c) => ident(c.name)),
        `CASE WHEN ${ident(column)} > CAST(${literal(String(threshold))} AS DOUBLE) THEN ${literal(above)} ELSE ${literal(atOrBelow)} END AS ${ident(label)}`,
      ].join(', ')} ` + `FROM read_parquet(${literal(file.path)})`;
    const stored = await withDuckdb((connection) => copyToDataset(connection, ctx.artifacts, select, outColumns));
    written = datasetRef.parse({ kind: 'dataset', ...stored, rows: values.length, columns: outColumns });
  } else {
    // A version 1 dataset (JSON Lines) streams through row by row.
    async function* labelled(): AsyncGenerator<Cell[]> {
      let i = 0;
      for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
        if (!Array.isArray(item)) continue;
        yield [...item.slice(0, source), ...item.slice(source + 1), values[i++]! > threshold ? above : atOrBelow];
      }
    }
    const columns = await storedColumns(ctx.artifacts, dataset);
    written = await writeDataset(
      ctx.artifacts,
      [...columns.filter((_, i) => i !== source), { name: label, type: 'string' }],
      labelled(),
    );
  }
  const counts = { [above]: high, [atOrBelow]: values.length - high };
  ctx.log('thresholded column', { column, label, threshold, counts });
  return { dataset: written, threshold, counts };
});
