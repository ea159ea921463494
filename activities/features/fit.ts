import { invalidData } from '../common/failures';
import { implement } from '../library';
import { transformRef } from '../refs';
import { fitFeatures } from './steps';
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { NonFiniteFitError, TransformFitError, TransformFitter } from './fitter';
import { transformWidth, type TransformSpec } from '../common/model/transform';
import { columnBatches } from '../common/dataset/dataset';

const PROGRESS_EVERY = 50_000;

export const fitFeaturesImpl = implement(fitFeatures, async (input, ctx) => {
  const { dataset, label } = input;
  const exclude = new Set(input.exclude ?? []);
  const names = dataset.columns.map((c) => c.name);
  for (const name of [label, ...exclude]) {
    if (!names.includes(name)) {
      throw invalidData(`column '${name}' is not in the dataset; columns are ${names.join(', ')}`, { column: name });
    }
  }
  const columns = dataset.columns.filter((c) => c.name !== label && !exclude.has(c.name));
  if (columns.length === 0)
    throw invalidData(`no feature columns are left after the label '${label}' and the exclusions`, { label });

  let spec: TransformSpec;
  try {
    const fitter = new TransformFitter(label, columns, {
      ...(input.impute && { impute: input.impute }),
      ...(input.bucketize && { bucketize: input.bucketize }),
    });
    let rows = 0;
    // Only the feature columns are read, a batch of rows at a time: memory stays flat with the row count.
    for await (const batch of columnBatches(
      ctx.artifacts,
      dataset,
      columns.map((c) => c.name),
    )) {
      fitter.observeColumns(batch);
      const before = rows;
      rows += batch.rows;
      if (Math.floor(rows / PROGRESS_EVERY) > Math.floor(before / PROGRESS_EVERY))
        ctx.heartbeat({ rows, of: dataset.rows });
    }
    spec = fitter.finish();
  } catch (error) {
    if (error instanceof NonFiniteFitError)
      throw ApplicationFailure.nonRetryable(error.message, FailureTypes.NonFiniteData, {
        column: error.column,
        row: error.row,
      });
    if (error instanceof TransformFitError) throw invalidData(error.message, { column: error.column });
    throw error;
  }
  const empty = spec.features.filter((f) => f.type === 'categorical' && f.categories.length === 0).map((f) => f.name);
  if (empty.length > 0) {
    throw invalidData(`column(s) ${empty.join(', ')} have no values at all; exclude them`, { columns: empty });
  }
  const stored = await ctx.artifacts.putJson(spec);
  ctx.log('fitted features', { features: spec.features.length, width: transformWidth(spec), sha256: stored.sha256 });
  return {
    transform: transformRef.parse({
      kind: 'transform',
      ...stored,
      features: columns.map((c) => c.name),
      width: transformWidth(spec),
    }),
  };
});
