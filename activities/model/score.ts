import type { ArtifactStore } from '../artifacts/store';
import type { Cell } from '../common/dataset/cells';
import { streamRows, writeDataset, type Column, type Row } from '../common/dataset/dataset';
import { invalidData } from '../common/failures';
import { argmax } from '../common/metrics/classification';
import { TransformInputError } from '../common/model/transform';
import { implement, type StepContext } from '../library';
import { buildOnnx, OnnxExportError, onnxSignatureOf, PROBABILITIES } from './onnx/build';
import { createScorer, OnnxInputError, openOnnx, type OnnxScorer } from './onnx/session';
import type { DatasetRef, ModelRef, OnnxRef } from '../refs';
import { loadModel, type ModelSpec } from '../common/model/model';
import { predictProba, predictValues } from '../common/model/predict';
import { PREDICTION_COLUMN, probabilityColumn, scoreModel } from './steps';

export { PREDICTION_COLUMN, probabilityColumn, scoreModel } from './steps';

const STEP = 'model.score';
/** Rows scored per batch, and between heartbeats. */
export const SCORE_BATCH = 1000;

/** Scores batches of raw rows: class probabilities, or a regressor's value as a one-element row. */
export interface BatchScorer {
  task: 'binary' | 'multiclass' | 'regression';
  /** Empty for a regressor. */
  classes: string[];
  /** The columns the model reads. */
  reads: string[];
  /** `first` is the 0-based index of the batch's first row in the dataset, for error messages. */
  score(rows: readonly Row[], first: number): Promise<number[][]>;
  close(): Promise<void>;
}

const rowError = (row: number, column: string, message: string) =>
  invalidData(
    `${STEP}: row ${row}, column '${column}': ${message}; fix or blank the value (a blank is imputed as in training)`,
    { row, column },
  );

/** The model's own transform and forward pass, row by row, as training and evaluation run it. */
function kilnScorer(model: ModelSpec): BatchScorer {
  const predict =
    model.task === 'regression'
      ? (row: Row) => [predictValues(model, [row])[0]!]
      : (row: Row) => predictProba(model, [row])[0]!;
  return {
    task: model.task,
    classes: model.classes,
    reads: model.transform.spec.features.map((f) => f.name),
    score: async (rows, first) =>
      rows.map((row, i) => {
        try {
          return predict(row);
        } catch (error) {
          if (error instanceof TransformInputError) {
            throw rowError(first + i + 1, error.feature, error.message.slice(`feature '${error.feature}': `.length));
          }
          throw error;
        }
      }),
    close: async () => {},
  };
}

function onnxBatchScorer(scorer: OnnxScorer, classes: string[]): BatchScorer {
  return {
    task: classes.length === 2 ? 'binary' : 'multiclass',
    classes,
    reads: scorer.signature.inputs.map((i) => i.name),
    async score(rows, first) {
      try {
        return await scorer.predictProba(rows);
      } catch (error) {
        if (error instanceof OnnxInputError) {
          throw rowError(first + error.row + 1, error.input, error.message.replace(/^input '.*?', row \d+: /s, ''));
        }
        throw error;
      }
    },
    close: () => scorer.close(),
  };
}

/** An ONNX graph of a Kiln model, exported in memory by the same exporter as model.exportOnnx. */
async function exportedScorer(model: ModelSpec, uri: string): Promise<BatchScorer> {
  let bytes: Uint8Array;
  try {
    bytes = buildOnnx(model);
  } catch (error) {
    if (error instanceof OnnxExportError) {
      throw invalidData(
        `${STEP}: engine 'onnx' cannot run model ${uri}: ${error.message}; score it with engine 'kiln'`,
        { model: uri },
      );
    }
    throw error;
  }
  return onnxBatchScorer(await createScorer(bytes, onnxSignatureOf(model)), [...model.classes]);
}

async function importedScorer(artifacts: ArtifactStore, ref: OnnxRef): Promise<BatchScorer> {
  const scorer = await openOnnx(artifacts, ref);
  const { classes } = scorer.signature;
  const problem = !scorer.session.outputNames.includes(PROBABILITIES)
    ? `it has no '${PROBABILITIES}' output (its outputs are ${scorer.session.outputNames.join(', ')})`
    : !classes || classes.length < 2
      ? 'its signature declares no classes (at least two) for the columns of its probabilities'
      : undefined;
  if (problem) {
    await scorer.close();
    throw invalidData(`${STEP}: cannot score with ONNX model ${ref.uri}: ${problem}`, { model: ref.uri });
  }
  return onnxBatchScorer(scorer, classes!);
}

/** A scorer for a model (only its kind and uri are read) or an ONNX graph, in the engine asked for. */
export async function openScorer(
  artifacts: ArtifactStore,
  model: Pick<ModelRef, 'kind' | 'uri'> | OnnxRef,
  engine: 'kiln' | 'onnx',
): Promise<BatchScorer> {
  if (model.kind === 'onnx') {
    if (engine !== 'onnx')
      throw invalidData(
        `${STEP}: model ${model.uri} is an ONNX graph, which only engine 'onnx' can run; set engine: 'onnx'`,
        { model: model.uri },
      );
    return importedScorer(artifacts, model);
  }
  const spec = await loadModel(artifacts, model.uri);
  return engine === 'kiln' ? kilnScorer(spec) : exportedScorer(spec, model.uri);
}

async function* batches(rows: AsyncIterable<Row>, size: number): AsyncGenerator<Row[]> {
  let batch: Row[] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** What a scoring run reports: the scored dataset and how many rows went to each class. */
export interface Scored {
  predictions: DatasetRef;
  summary: { rows: number; byClass?: Record<string, number> };
}

/**
 * Scores every row of `dataset` with `scorer` (closing it after), streaming into a dataset of the
 * input's columns, `prediction` and the `p_<class>` columns.
 */
export async function scoreDataset(
  scorer: BatchScorer,
  input: { dataset: DatasetRef; threshold: number; engine: 'kiln' | 'onnx' },
  ctx: StepContext,
): Promise<Scored> {
  const { dataset, threshold, engine } = input;
  try {
    const { task, classes } = scorer;
    const names = new Set(dataset.columns.map((c) => c.name));
    const absent = scorer.reads.filter((name) => !names.has(name));
    if (absent.length > 0) {
      throw invalidData(
        `${STEP}: the dataset has no column ${absent.map((c) => `'${c}'`).join(', ')}, which the model reads; columns are ${[...names].join(', ')}`,
        { absent },
      );
    }
    const added: Column[] = [
      { name: PREDICTION_COLUMN, type: task === 'regression' ? 'number' : 'string' },
      ...classes.map((cls) => ({ name: probabilityColumn(cls), type: 'number' as const })),
    ];
    const clash = added.filter((c) => names.has(c.name)).map((c) => c.name);
    if (clash.length > 0) {
      throw invalidData(
        `${STEP}: the dataset already has column ${clash.map((c) => `'${c}'`).join(', ')}, which scoring adds; rename or drop it first`,
        { clash },
      );
    }
    const predicted = (p: number[]): Cell =>
      task === 'regression' ? p[0]! : task === 'binary' ? classes[p[1]! >= threshold ? 1 : 0]! : classes[argmax(p)]!;
    const byClass = new Map(classes.map((cls) => [cls, 0]));
    let scored = 0;
    async function* rows(): AsyncGenerator<Cell[]> {
      for await (const batch of batches(streamRows(ctx.artifacts, dataset), SCORE_BATCH)) {
        ctx.signal.throwIfAborted();
        const outputs = await scorer.score(batch, scored);
        for (let i = 0; i < batch.length; i++) {
          const p = outputs[i]!;
          const prediction = predicted(p);
          if (task !== 'regression') byClass.set(prediction as string, byClass.get(prediction as string)! + 1);
          yield [
            ...dataset.columns.map((c) => batch[i]![c.name] ?? null),
            prediction,
            ...(task === 'regression' ? [] : p),
          ];
        }
        scored += batch.length;
        ctx.heartbeat({ rows: scored, of: dataset.rows });
      }
    }
    const predictions = await writeDataset(ctx.artifacts, [...dataset.columns, ...added], rows());
    const summary = {
      rows: predictions.rows,
      ...(task === 'regression' ? {} : { byClass: Object.fromEntries(byClass) }),
    };
    ctx.log('scored', { engine, rows: summary.rows, predictions: predictions.sha256 });
    return { predictions, summary };
  } finally {
    await scorer.close();
  }
}

export const scoreModelImpl = implement(scoreModel, async (input, ctx) =>
  scoreDataset(await openScorer(ctx.artifacts, input.model, input.engine), input, ctx),
);
