import type { ArtifactStore } from '../../artifacts/store';
import { isAbsent, type Cell } from '../dataset/cells';
import {
  columnBatches,
  DatasetFormatError,
  datasetVersion,
  loadColumns,
  type ColumnBatch,
  loadDataset,
  type ColumnarDataset,
  type ColumnValues,
  type Row,
} from '../dataset/dataset';
import { invalidData } from '../failures';
import { categoryOf, transformWidth, TransformInputError, type TransformSpec } from './transform';
import { tryTransformColumnsInto } from './transform-columns';
import type { DatasetRef } from '../../refs';
import type { DenseLayer, ModelSpec } from './model';
import { predictProba } from './predict';

// Held-out data read for a model and scored by it. Two forms: rows (small data, and callers that
// perturb rows) and columns (large data: no object per row, and the forward pass a batch at a
// time). Both give the same numbers to the bit and the same error messages.

/** A dataset's rows with each one's true class (an index into `model.classes`). */
export interface LabelledRows {
  rows: Row[];
  labels: number[];
}

/** A dataset's columns (those asked for that it has) with each row's true class. */
export interface LabelledColumns {
  data: ColumnarDataset;
  labels: number[];
}

function checkClassifier(model: ModelSpec, dataset: DatasetRef, step: string): void {
  const { label } = model;
  if (model.task === 'regression')
    throw invalidData(`${step} needs a classifier; this model is a regressor of '${label}'`, { task: model.task });
  if (!dataset.columns.some((c) => c.name === label)) {
    throw invalidData(
      `${step}: the data has no label column '${label}'; columns are ${dataset.columns.map((c) => c.name).join(', ')}`,
      { label },
    );
  }
}

/** The class index of each label value; a missing or unknown class is InvalidData naming the row. */
function classIndices(model: ModelSpec, values: ArrayLike<unknown>, step: string): number[] {
  const { label, classes } = model;
  const index = new Map(classes.map((c, i) => [c, i]));
  return Array.from({ length: values.length }, (_, i) => {
    const value = values[i];
    if (isAbsent(value))
      throw invalidData(`${step}: row ${i + 1} has no value for the label '${label}'`, { label, row: i + 1 });
    const k = index.get(categoryOf(value as Cell));
    if (k === undefined) {
      throw invalidData(
        `${step}: row ${i + 1} has the class '${categoryOf(value as Cell)}', which the model was not trained on (classes: ${classes.join(', ')})`,
        { label, row: i + 1 },
      );
    }
    return k;
  });
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
  checkClassifier(model, dataset, step);
  const { rows } = await loadDataset(artifacts, dataset);
  if (rows.length === 0) throw invalidData(`${step}: the data has no rows`, {});
  const labels = classIndices(
    model,
    rows.map((row) => row[model.label]),
    step,
  );
  return { rows, labels };
}

/** As `labelledRows`, reading only the model's features, the label and `extra` columns. */
export async function labelledColumns(
  artifacts: ArtifactStore,
  model: ModelSpec,
  dataset: DatasetRef,
  step: string,
  extra: readonly string[] = [],
): Promise<LabelledColumns> {
  checkClassifier(model, dataset, step);
  const data = await readModelColumns(artifacts, model, dataset, [model.label, ...extra]);
  if (data.rows === 0) throw invalidData(`${step}: the data has no rows`, {});
  return { data, labels: classIndices(model, data.values.get(model.label)!, step) };
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

/** Rows scored per forward pass by `scoreColumns`. */
const BATCH = 8192;

/**
 * Class probabilities of every row, row-major (rows × classes), as `scoreRows` computes them; a
 * value the model's transform cannot read is InvalidData naming the row.
 */
export function scoreColumns(model: ModelSpec, data: ColumnarDataset, step: string): Float64Array {
  const width = model.task === 'binary' ? 2 : model.classes.length;
  const out = new Float64Array(data.rows * width);
  for (let start = 0; start < data.rows; start += BATCH) {
    const end = Math.min(data.rows, start + BATCH);
    try {
      out.set(predictBatch(model, data.values, start, end), start * width);
    } catch (error) {
      if (error instanceof RowInputError)
        throw invalidData(`${step}: row ${error.row + 1}: ${error.error.message}`, {
          row: error.row + 1,
          feature: error.error.feature,
        });
      throw error;
    }
  }
  return out;
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

/**
 * Reads the named columns whole. A version 1 dataset's columns are kept as the cells its JSON
 * held, even number columns: there a number column may hold text, which the model must reject
 * naming the row (loadColumns would read it as a missing number).
 */
export async function readColumns(
  artifacts: ArtifactStore,
  dataset: DatasetRef,
  names: readonly string[],
): Promise<ColumnarDataset> {
  if ((await datasetVersion(artifacts, dataset)) === 2) return loadColumns(artifacts, dataset, names);
  const { columns: stored, rows } = await loadDataset(artifacts, dataset);
  const columns = names.map((name) => {
    const column = stored.find((c) => c.name === name);
    if (!column) throw new DatasetFormatError(dataset.uri, `has no column '${name}'`);
    return column;
  });
  const values = new Map<string, ColumnValues>(columns.map((c) => [c.name, rows.map((row) => row[c.name] ?? null)]));
  return { columns, rows: rows.length, values };
}

/** The model's feature columns the dataset has (a feature it lacks reads as missing) and `extra` ones. */
export function readModelColumns(
  artifacts: ArtifactStore,
  model: ModelSpec,
  dataset: DatasetRef,
  extra: readonly string[] = [],
): Promise<ColumnarDataset> {
  const present = new Set(dataset.columns.map((c) => c.name));
  const names = [...new Set([...model.transform.spec.features.map((f) => f.name), ...extra])];
  return readColumns(
    artifacts,
    dataset,
    names.filter((name) => present.has(name)),
  );
}

/**
 * The named columns in batches of rows, in row order: what a pass over millions of rows needs. A
 * version 1 dataset comes as one batch of the cells its JSON held (see `readColumns`).
 */
export async function* readColumnBatches(
  artifacts: ArtifactStore,
  dataset: DatasetRef,
  names: readonly string[],
  size: number,
): AsyncGenerator<ColumnBatch> {
  if ((await datasetVersion(artifacts, dataset)) === 1) {
    const { rows, values } = await readColumns(artifacts, dataset, names);
    yield { rows, values };
    return;
  }
  yield* columnBatches(artifacts, dataset, names, size);
}

/** As `readModelColumns`, in batches of rows (`readColumnBatches`). */
export function modelColumnBatches(
  artifacts: ArtifactStore,
  model: ModelSpec,
  dataset: DatasetRef,
  extra: readonly string[],
  size: number,
): AsyncGenerator<ColumnBatch> {
  const present = new Set(dataset.columns.map((c) => c.name));
  const names = [...new Set([...model.transform.spec.features.map((f) => f.name), ...extra])];
  return readColumnBatches(
    artifacts,
    dataset,
    names.filter((name) => present.has(name)),
    size,
  );
}

/** A value the model's transform rejects, at a 0-based row of the columns. */
export class RowInputError extends Error {
  constructor(
    readonly row: number,
    readonly error: TransformInputError,
  ) {
    super(`row ${row + 1}: ${error.message}`, { cause: error });
    this.name = 'RowInputError';
  }
}

/**
 * The feature matrix of rows [start, end), row-major (rows × transformWidth), in float64 as
 * `applyTransform` gives it. A value the transform rejects throws a RowInputError for the first
 * such row, and within it the first such feature, as reading row by row would.
 */
function featureMatrix(
  spec: TransformSpec,
  columns: ReadonlyMap<string, ColumnValues>,
  start: number,
  end: number,
): Float64Array {
  const out = new Float64Array((end - start) * transformWidth(spec));
  // The columns hold at least `end` rows; a feature without a column reads as missing.
  const rejected = tryTransformColumnsInto(spec, { rows: end, values: columns }, out, start, end);
  if (rejected) throw new RowInputError(rejected.row, rejected.error);
  return out;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

function activateRows(z: Float64Array, rows: number, width: number, activation: DenseLayer['activation']): void {
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < z.length; i++) z[i] = z[i]! > 0 ? z[i]! : 0;
      return;
    case 'sigmoid':
      for (let i = 0; i < z.length; i++) z[i] = sigmoid(z[i]!);
      return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const at = r * width;
        let max = -Infinity;
        for (let j = 0; j < width; j++) max = Math.max(max, z[at + j]!);
        let sum = 0;
        for (let j = 0; j < width; j++) {
          z[at + j] = Math.exp(z[at + j]! - max);
          sum += z[at + j]!;
        }
        for (let j = 0; j < width; j++) z[at + j] = z[at + j]! / sum;
      }
      return;
  }
}

/**
 * `forward` over a row-major batch: the same sums in the same order for each row, so the same
 * outputs to the bit, without an array per row and layer.
 */
export function forwardRows(layers: readonly DenseLayer[], x: Float64Array, rows: number): Float64Array {
  let input = x;
  let width = rows === 0 ? 0 : x.length / rows;
  for (const layer of layers) {
    const { weights, bias } = layer;
    if (rows > 0 && weights.length !== width)
      throw new RangeError(`a layer expects ${weights.length} inputs, got ${width}`);
    const outputs = bias.length;
    const z = new Float64Array(rows * outputs);
    for (let r = 0; r < rows; r++) {
      const zr = r * outputs;
      const xr = r * width;
      for (let j = 0; j < outputs; j++) z[zr + j] = bias[j]!;
      for (let i = 0; i < width; i++) {
        const xi = input[xr + i]!;
        if (xi === 0) continue;
        const w = weights[i]!;
        for (let j = 0; j < outputs; j++) z[zr + j]! += xi * w[j]!;
      }
    }
    activateRows(z, rows, outputs, layer.activation);
    input = z;
    width = outputs;
  }
  return input;
}

/**
 * The model's outputs for rows [start, end) of the columns, row-major: class probabilities in
 * the order of `model.classes` (`[1 − p, p]` for a binary model), or a regressor's value (one per
 * row). As `predictProba` / `predictValues` compute them, to the bit.
 */
export function predictBatch(
  model: ModelSpec,
  columns: ReadonlyMap<string, ColumnValues>,
  start: number,
  end: number,
): Float64Array {
  const rows = end - start;
  const out = forwardRows(model.layers, featureMatrix(model.transform.spec, columns, start, end), rows);
  const width = rows === 0 ? 0 : out.length / rows;
  if (model.task === 'multiclass') return out;
  if (model.task === 'regression')
    return width === 1 ? out : Float64Array.from({ length: rows }, (_, r) => out[r * width]!);
  const proba = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const p = out[r * width]!;
    proba[2 * r] = 1 - p;
    proba[2 * r + 1] = p;
  }
  return proba;
}

/** The cell at row r of a column, as a row would hold it: a missing number is null. */
export function cellAt(column: ColumnValues, r: number): Cell {
  if (!(column instanceof Float64Array)) return column[r] ?? null;
  const v = column[r]!;
  return Number.isNaN(v) ? null : v;
}
