import type { Cell } from '../common/dataset/cells';
import { invalidData } from '../common/failures';
import type { ModelSpec } from '../common/model/model';
import { cellAt, modelColumnBatches, predictBatch, RowInputError } from '../common/model/scored-rows';
import type { StepContext } from '../library';
import type { DatasetRef } from '../refs';

/** Rows read per batch, and between heartbeats. */
const PROGRESS_EVERY = 50_000;

/**
 * Scores a held-out dataset a batch at a time, judging rows in order as one pass row by row would:
 * `label` reads each row's label (`n` counts from 1) and returns the failure that stops the pass at
 * that row, before it is scored; `scored` gets the model's outputs (row-major) of the rows before
 * the first failure, `first` being the 0-based index of the first of them.
 */
export async function scoreHeldOut(
  ctx: Pick<StepContext, 'artifacts' | 'heartbeat'>,
  model: ModelSpec,
  dataset: DatasetRef,
  label: (value: Cell, n: number) => Error | undefined,
  scored: (outputs: Float64Array, first: number) => void,
): Promise<void> {
  let first = 0;
  for await (const batch of modelColumnBatches(ctx.artifacts, model, dataset, [model.label], PROGRESS_EVERY)) {
    const labels = batch.values.get(model.label)!;
    let labelFailure: Error | undefined;
    let good = 0;
    for (; good < batch.rows; good++) {
      labelFailure = label(cellAt(labels, good), first + good + 1);
      if (labelFailure) break;
    }
    try {
      scored(predictBatch(model, batch.values, 0, good), first);
    } catch (error) {
      if (!(error instanceof RowInputError)) throw error;
      // The rows before the one the transform rejects are judged first, as in row order.
      scored(predictBatch(model, batch.values, 0, error.row), first);
      const n = first + error.row + 1;
      throw invalidData(`row ${n}: ${error.error.message}`, { row: n, feature: error.error.feature });
    }
    if (labelFailure) throw labelFailure;
    for (let n = first - (first % PROGRESS_EVERY) + PROGRESS_EVERY; n <= first + batch.rows; n += PROGRESS_EVERY)
      ctx.heartbeat({ rows: n, of: dataset.rows });
    first += batch.rows;
  }
}
