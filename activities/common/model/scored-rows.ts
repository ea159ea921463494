import type { ArtifactStore } from '../../artifacts/store';
import { loadDataset, type Row } from '../dataset/dataset';
import { invalidData } from '../failures';
import { categoryOf, TransformInputError } from './transform';
import type { DatasetRef } from '../../refs';
import type { ModelSpec } from './model';
import { predictProba } from './predict';

/** A dataset's rows with each one's true class (an index into `model.classes`). */
export interface LabelledRows {
  rows: Row[];
  labels: number[];
}

/**
 * Reads a held-out dataset for a model: every row must carry the model's label with a class it
 * was trained on; a row that does not is a non-retryable InvalidData failure naming the row.
 */
export async function labelledRows(
  artifacts: ArtifactStore,
  model: ModelSpec,
  dataset: DatasetRef,
  step: string,
): Promise<LabelledRows> {
  const { label, classes } = model;
  if (model.task === 'regression')
    throw invalidData(`${step} needs a classifier; this model is a regressor of '${label}'`, { task: model.task });
  if (!dataset.columns.some((c) => c.name === label)) {
    throw invalidData(
      `${step}: the data has no label column '${label}'; columns are ${dataset.columns.map((c) => c.name).join(', ')}`,
      { label },
    );
  }
  const { rows } = await loadDataset(artifacts, dataset);
  if (rows.length === 0) throw invalidData(`${step}: the data has no rows`, {});
  const index = new Map(classes.map((c, i) => [c, i]));
  const labels = rows.map((row, i) => {
    const value = row[label];
    if (value === null || value === undefined)
      throw invalidData(`${step}: row ${i + 1} has no value for the label '${label}'`, { label, row: i + 1 });
    const k = index.get(categoryOf(value));
    if (k === undefined) {
      throw invalidData(
        `${step}: row ${i + 1} has the class '${categoryOf(value)}', which the model was not trained on (classes: ${classes.join(', ')})`,
        { label, row: i + 1 },
      );
    }
    return k;
  });
  return { rows, labels };
}

/** Class probabilities per row; a value the model's transform cannot read is InvalidData naming the row. */
export function scoreRows(model: ModelSpec, rows: readonly Row[], step: string): number[][] {
  return rows.map((row, i) => {
    try {
      return predictProba(model, [row])[0]!;
    } catch (error) {
      if (error instanceof TransformInputError)
        throw invalidData(`${step}: row ${i + 1}: ${error.message}`, { row: i + 1, feature: error.feature });
      throw error;
    }
  });
}

/** Fails unless the model is a binary classifier, which `step` needs. */
export function requireBinary(model: ModelSpec, step: string): void {
  if (model.task !== 'binary') {
    throw invalidData(
      `${step} needs a binary classifier; this model is ${model.task} over ${model.classes.join(', ')}`,
      { task: model.task },
    );
  }
}

/** Fails unless every class of the model occurs in the labels, without which ROC AUC is undefined. */
export function requireEveryClass(model: ModelSpec, labels: readonly number[], step: string): void {
  const seen = new Set(labels);
  const absent = model.classes.filter((_, k) => !seen.has(k));
  if (absent.length > 0) {
    throw invalidData(
      `${step}: the data has no rows of class ${absent.map((c) => `'${c}'`).join(', ')}, so ROC AUC is undefined; use a larger or stratified test set`,
      { absent },
    );
  }
}
