import { implement } from '../library';
import type { Cell } from '../common/dataset/cells';
import { readDatasetValues, writeDataset, type Column } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { thresholdLabel } from './steps';

/** The median of finite numbers: the middle value, or the mean of the two middle values. */
export function median(values: readonly number[]): number {
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

  // A label cannot be missing, so neither can the value it is derived from.
  const values: number[] = [];
  let columns: Column[] = [];
  for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
    if (!Array.isArray(item)) {
      columns = item.columns;
      continue;
    }
    const value = item[source];
    if (typeof value !== 'number') {
      throw invalidData(`row ${values.length + 1} has no value for '${column}'; every row needs one to get a label`, {
        column,
        row: values.length + 1,
      });
    }
    values.push(value);
  }
  if (values.length === 0) throw invalidData(`the dataset has no rows to label`, { column });

  const threshold = input.threshold === 'median' ? median(values) : input.threshold;
  const high = values.reduce((n, v) => n + (v > threshold ? 1 : 0), 0);
  if (high === 0 || high === values.length) {
    const [min, max] = values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
    throw invalidData(
      `a threshold of ${threshold} puts every row of '${column}' (${min} to ${max}) in class '${high === 0 ? atOrBelow : above}'; choose a threshold between its values`,
      { column, threshold, min, max },
    );
  }
  ctx.heartbeat({ phase: 'threshold chosen', threshold, rows: values.length });

  const outColumns: Column[] = [...columns.filter((_, i) => i !== source), { name: label, type: 'string' }];
  async function* labelled(): AsyncGenerator<Cell[]> {
    let i = 0;
    for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
      if (!Array.isArray(item)) continue;
      yield [...item.slice(0, source), ...item.slice(source + 1), values[i++]! > threshold ? above : atOrBelow];
    }
  }
  const written = await writeDataset(ctx.artifacts, outColumns, labelled());
  const counts = { [above]: high, [atOrBelow]: values.length - high };
  ctx.log('thresholded column', { column, label, threshold, counts });
  return { dataset: written, threshold, counts };
});
