import { invalidData } from '../common/failures';
import type { DatasetRef, ModelRef } from '../refs';
import type { ModelSpec } from '../common/model/model';
import { MetricInputError } from '../common/metrics/input-check';

/** What a binary classifier's report was computed on: the model, its label and positive class, and the rows. */
export interface ReportSubject {
  model: { sha256: string; label: string; positiveClass: string };
  dataset: { sha256: string; rows: number };
}

export const reportSubject = (
  input: { model: ModelRef; dataset: DatasetRef },
  model: ModelSpec,
  rows: number,
): ReportSubject => ({
  model: { sha256: input.model.sha256, label: model.label, positiveClass: model.classes[1]! },
  dataset: { sha256: input.dataset.sha256, rows },
});

/** Runs `compute`; metric inputs without a defined answer fail as non-retryable invalid data naming the step. */
export async function metricReport<T>(step: string, compute: () => T | Promise<T>): Promise<T> {
  try {
    return await compute();
  } catch (error) {
    if (error instanceof MetricInputError) throw invalidData(`${step}: ${error.message}`, {});
    throw error;
  }
}
