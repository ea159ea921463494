import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../../dsl/failures';
import { loadColumns, type ColumnarDataset } from '../common/dataset/dataset';
import type { ColumnValues } from '../common/dataset/parquet';
import { invalidData } from '../common/failures';
import { loadTransform } from '../common/model/transform';
import { TransformInputError, type TransformSpec } from '../common/model/transform';
import { transformColumns } from '../common/model/transform-columns';
import type { StepContext } from '../library';
import type { DatasetRef, TransformRef } from '../refs';
import { runOffThread } from '../common/compute-pool';
import type { FitInput, FitOutput } from './fit-thread';
import type { DenseLayer } from '../common/model/model';
import type { NetworkConfig } from './network';
import { defaultBatchSize } from './batch-size';
import { resolveEarlyStopping, validationRows, type EarlyStoppingOption } from './early-stopping';

// What the classifier and the regressor share: reading the training columns (the transform's
// features and the label, never row objects) through the fitted transform, and training dense
// layers on TensorFlow.js (off the event loop) with heartbeats and cancellation.

/** Largest difference allowed between TensorFlow.js and the plain forward pass on the training rows. */
const PARITY_TOLERANCE = 1e-4;

/** Rows per float64 batch when the stored model is run on the training columns. */
const OUTPUT_BATCH_ROWS = 65_536;

export interface TrainingData {
  spec: TransformSpec;
  /** The label and those of the transform's feature columns the dataset has. */
  data: ColumnarDataset;
  label: ColumnValues;
  rows: number;
  /** Row-major, transformWidth(spec) per row. */
  features: Float32Array;
}

/** The training columns and their features; fails as invalid data when the transform or label do not fit them. */
export async function loadTrainingData(
  ctx: StepContext,
  input: { train: DatasetRef; transform: TransformRef; label: string },
): Promise<TrainingData> {
  const { label } = input;
  const spec = await loadTransform(ctx.artifacts, input.transform.uri);
  if (spec.label !== label) {
    throw invalidData(`the transform was fitted for the label '${spec.label}', not '${label}'`, {
      label,
      transformLabel: spec.label,
    });
  }
  const { columns } = input.train;
  if (!columns.some((c) => c.name === label)) {
    throw invalidData(
      `the training data has no label column '${label}'; columns are ${columns.map((c) => c.name).join(', ')}`,
      { label },
    );
  }
  // A feature the dataset lacks reads as missing on every row, as it did from row objects.
  const present = new Set(columns.map((c) => c.name));
  const names = [...new Set([...spec.features.map((f) => f.name).filter((name) => present.has(name)), label])];
  const data = await loadColumns(ctx.artifacts, input.train, names);
  const rows = data.rows;
  let features: Float32Array;
  try {
    features = transformColumns(spec, data);
  } catch (error) {
    if (error instanceof TransformInputError)
      throw invalidData(`training data: ${error.message}`, { feature: error.feature });
    throw error;
  }
  const bad = features.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    const row = Math.floor(bad / (features.length / rows)) + 1;
    throw ApplicationFailure.nonRetryable(
      `training data: row ${row} has a feature that is not finite after the transform (an infinite or overflowing value); fix the row, or refit the transform on data without it`,
      FailureTypes.NonFiniteData,
      { row },
    );
  }
  return { spec, data, label: data.values.get(label)!, rows, features };
}

/**
 * Runs `predict` on the training columns in batches, as float64 features the way `applyTransform`
 * computes them (the float32 training matrix is rounded), so that the results are the row-wise
 * predictions' exactly, without holding a float64 copy of the whole matrix.
 */
export function storedModelOutputs<T>(
  training: TrainingData,
  predict: (features: Float64Array, rows: number) => T[],
): T[] {
  const { spec, data, rows } = training;
  const outputs: T[] = [];
  for (let from = 0; from < rows; from += OUTPUT_BATCH_ROWS) {
    const to = Math.min(rows, from + OUTPUT_BATCH_ROWS);
    for (const output of predict(transformColumns(spec, data, { precision: 'float64', from, to }), to - from))
      outputs.push(output);
  }
  return outputs;
}

/** The hidden layer sizes: none for linear or logistic regression (which refuse any), [16] for an mlp unless given. */
export function hiddenLayers(architecture: 'linear' | 'logistic' | 'mlp', hidden: number[] | undefined): number[] {
  if (architecture === 'mlp') return hidden ?? [16];
  if (hidden && hidden.length > 0) {
    throw invalidData(
      `${architecture} regression has no hidden layers, but hidden is [${hidden.join(', ')}]; use architecture 'mlp'`,
      { hidden },
    );
  }
  return [];
}

export interface DenseTraining {
  layers: DenseLayer[];
  /** TensorFlow.js's outputs on the training rows, row-major, for the parity check of the stored model. */
  reference: Float32Array;
  backend: string;
  seconds: number;
}

/** How a gradient-descent fit ran, as the step reports it. */
export interface GradientDescentRecord {
  batchSize: number;
  epochsRun: number;
  earlyStopping?: { validationRows: number; bestEpoch: number; validationLoss: number };
}

export interface DenseFit extends DenseTraining {
  record: GradientDescentRecord;
}

/**
 * Trains dense layers on features and targets on a compute-pool thread, heartbeating each epoch
 * and every second between; a cancelled activity ends the thread. The batch size is the given
 * one or `defaultBatchSize` of the rows; early stopping follows `resolveEarlyStopping`, holding
 * out rows drawn by the seed, stratified by `strata` (a classifier's class of each row).
 */
export async function trainDense(
  ctx: StepContext,
  data: { features: Float32Array; targets: Float32Array; rows: number; strata?: ArrayLike<number> },
  config: NetworkConfig,
  fit: {
    epochs: number;
    batchSize: number | undefined;
    earlyStopping: EarlyStoppingOption;
    describe?: Record<string, unknown>;
  },
): Promise<DenseFit> {
  const { features, targets, rows } = data;
  const batchSize = fit.batchSize ?? defaultBatchSize(rows);
  const stopping = resolveEarlyStopping(fit.earlyStopping, rows);
  const held = stopping && validationRows(rows, stopping.validationFraction, config.seed, data.strata);
  ctx.log('training', {
    rows,
    width: config.inputs,
    hidden: config.hidden,
    batchSize,
    ...(held && { validationRows: held.length, patience: stopping.patience }),
    ...fit.describe,
  });
  const { skipped, epochsRun, bestEpoch, validationLoss, ...trained } = await runOffThread<FitInput, FitOutput>(
    new URL('./fit-thread.ts', import.meta.url),
    'fitDense',
    {
      features,
      targets,
      rows,
      config,
      epochs: fit.epochs,
      batchSize,
      ...(held && { validation: { rows: held, patience: stopping.patience, minDelta: stopping.minDelta } }),
    },
    { signal: ctx.signal, heartbeat: (details) => ctx.heartbeat(details) },
  );
  if (skipped.length > 0) ctx.log('TensorFlow.js backends skipped', { backend: trained.backend, skipped });
  const record: GradientDescentRecord = {
    batchSize,
    epochsRun,
    ...(held &&
      bestEpoch !== undefined &&
      validationLoss !== undefined && { earlyStopping: { validationRows: held.length, bestEpoch, validationLoss } }),
  };
  if (record.earlyStopping) ctx.log('early stopping', { ...record.earlyStopping, epochsRun, epochs: fit.epochs });
  return { ...trained, record };
}

/** Fails loudly when the stored model's predictions drift from the trained network's. */
export function checkParity(drift: number): void {
  if (!(drift <= PARITY_TOLERANCE))
    throw new Error(
      `the exported model differs from the trained network by ${drift} (tolerance ${PARITY_TOLERANCE}); this is a bug in the exporter`,
    );
}
