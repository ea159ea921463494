import {
  z,
  datasetRef,
  defineStep,
  fail,
  FailureTypes,
  implement,
  readDatasetValues,
  stopIfCancelled,
  writeDataset,
  type Column,
} from 'kiln';

/**
 * Adds a column holding one numeric column divided by another, such as the wage per year of
 * schooling. A row whose divisor is zero or missing gets a missing value.
 */
export const addRatio = defineStep({
  name: 'features.addRatio',
  version: '1',
  input: z.object({
    dataset: datasetRef,
    numerator: z.string().min(1),
    denominator: z.string().min(1),
    as: z.string().min(1),
  }),
  output: z.object({ dataset: datasetRef, missing: z.number().int().nonnegative() }),
});

export const addRatioImpl = implement(addRatio, async ({ dataset, numerator, denominator, as }, ctx) => {
  // Bad input fails at once (a retry would read the same data): name the column and the remedy.
  const numeric = (name: string) => {
    const index = dataset.columns.findIndex((c) => c.name === name);
    const column = dataset.columns[index];
    if (!column)
      throw fail(
        FailureTypes.InvalidData,
        `no column '${name}'; the dataset has ${dataset.columns.map((c) => c.name).join(', ')}`,
      );
    if (column.type !== 'number' && column.type !== 'integer')
      throw fail(FailureTypes.InvalidData, `column '${name}' holds ${column.type} values; a ratio needs numbers`);
    return index;
  };
  const top = numeric(numerator);
  const bottom = numeric(denominator);
  if (dataset.columns.some((c) => c.name === as))
    throw fail(FailureTypes.InvalidData, `the dataset already has a column '${as}'; choose another name`);

  let rows = 0;
  let missing = 0;
  async function* withRatio() {
    for await (const item of readDatasetValues(ctx.artifacts, dataset)) {
      if (!Array.isArray(item)) continue;
      stopIfCancelled(ctx);
      const [a, b] = [item[top], item[bottom]];
      const ratio = typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : null;
      if (ratio === null) missing++;
      yield [...item, ratio];
      if (++rows % 1000 === 0) ctx.heartbeat({ rows, of: dataset.rows });
    }
  }
  const columns: Column[] = [...dataset.columns, { name: as, type: 'number' }];
  const written = await writeDataset(ctx.artifacts, columns, withRatio());
  ctx.heartbeat({ rows, of: dataset.rows });
  ctx.log('added a ratio column', { column: as, missing });
  return { dataset: written, missing };
});

// What `kiln dev --steps` and `kiln worker --steps` load: the implementations this module runs.
export default [addRatioImpl];
