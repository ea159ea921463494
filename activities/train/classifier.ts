import type { ColumnValues } from '../common/dataset/parquet';
import { invalidData } from '../common/failures';
import { categoryOf, transformWidth } from '../common/model/transform';
import { argmax, DEFAULT_THRESHOLD, logLoss, multiclassLogLoss } from '../common/metrics/classification';
import { implement } from '../library';
import { modelRef } from '../refs';
import { checkParity, hiddenLayers, loadTrainingData, storedModelOutputs, trainDense } from './dense';
import type { ModelSpec } from '../common/model/model';
import { predictProbaOfFeatures } from '../common/model/predict';
import { trainLogistic } from './logistic';
import { trainClassifier } from './steps';

/** A label cell, or undefined where it is missing (NaN in a column of numbers). */
export function labelAt(column: ColumnValues, i: number): Exclude<ColumnValues[number], null> | undefined {
  const value = column[i];
  return value === null || value === undefined || (column instanceof Float64Array && Number.isNaN(value))
    ? undefined
    : value;
}

/**
 * The classes of a label column, sorted; for two classes, the positive one last. A binary
 * model's positive class is `positiveClass` when given, else the second in sorted order
 * ('true' for booleans, '1' for 0/1).
 */
export function classesOf(column: ColumnValues, label: string, positiveClass?: string): string[] {
  const seen = new Set<string>();
  for (let i = 0; i < column.length; i++) {
    const value = labelAt(column, i);
    if (value === undefined)
      throw invalidData(`row ${i + 1} has no value for the label '${label}'`, { label, row: i + 1 });
    seen.add(categoryOf(value));
  }
  const classes = [...seen].sort();
  if (classes.length < 2)
    throw invalidData(
      `the label '${label}' has only the class ${JSON.stringify(classes[0])}; a classifier needs two or more`,
      { label, classes },
    );
  if (positiveClass === undefined) return classes;
  if (!seen.has(positiveClass)) {
    throw invalidData(
      `positive class '${positiveClass}' is not a value of '${label}'; its classes are ${classes.join(', ')}`,
      { label, classes, positiveClass },
    );
  }
  if (classes.length > 2) {
    throw invalidData(`positiveClass is for two classes; '${label}' has ${classes.length}: ${classes.join(', ')}`, {
      label,
      classes,
      positiveClass,
    });
  }
  return [classes.find((c) => c !== positiveClass)!, positiveClass];
}

/** L-BFGS for logistic regression unless 'sgd' is asked for; an MLP trains by mini-batch gradient descent only. */
export function solverOf(architecture: 'logistic' | 'mlp', solver: 'lbfgs' | 'sgd' | undefined): 'lbfgs' | 'sgd' {
  if (architecture === 'logistic') return solver ?? 'lbfgs';
  if (solver === 'lbfgs')
    throw invalidData(`solver 'lbfgs' fits logistic regression only; an mlp trains with solver 'sgd'`, {
      architecture,
      solver,
    });
  return 'sgd';
}

export const trainClassifierImpl = implement(trainClassifier, async (input, ctx) => {
  const { label, architecture, epochs, learningRate, seed } = input;
  const l2 = input.l2 ?? 0;
  const hidden = hiddenLayers(architecture, input.hidden);
  const solver = solverOf(architecture, input.solver);
  if (solver === 'lbfgs' && input.earlyStopping !== undefined && input.earlyStopping !== false)
    throw invalidData(
      `earlyStopping is for gradient descent; logistic regression by L-BFGS runs to convergence (epochs = its most iterations): drop earlyStopping, or use solver 'sgd'`,
      { option: 'earlyStopping', solver },
    );

  const training = await loadTrainingData(ctx, input);
  const { spec, rows, features } = training;
  const classes = classesOf(training.label, label, input.positiveClass);
  const task = classes.length === 2 ? 'binary' : 'multiclass';
  const width = transformWidth(spec);
  const outputs = task === 'binary' ? 1 : classes.length;

  const index = new Map(classes.map((c, i) => [c, i]));
  // classesOf saw a value in every row.
  const yTrue = Array.from({ length: rows }, (_, i) => index.get(categoryOf(labelAt(training.label, i)!))!);
  const targets = new Float32Array(rows * outputs);
  yTrue.forEach((k, i) => {
    if (task === 'binary') targets[i] = k;
    else targets[i * outputs + k] = 1;
  });

  const data = { features, targets, rows };
  const { layers, reference, backend, seconds, record } =
    solver === 'lbfgs'
      ? {
          ...(await trainLogistic(ctx, data, {
            inputs: width,
            outputs,
            l2,
            maxIterations: epochs,
            describe: { task },
          })),
          record: undefined,
        }
      : await trainDense(
          ctx,
          { ...data, strata: yTrue },
          { inputs: width, hidden, outputs, learningRate, l2, seed },
          { epochs, batchSize: input.batchSize, earlyStopping: input.earlyStopping, describe: { task, architecture } },
        );
  // The batch size the fit used (or, for L-BFGS, which ignores it, the one given).
  const batchSize = record?.batchSize ?? input.batchSize ?? rows;

  const model: ModelSpec = {
    kind: 'kiln.model',
    version: 1,
    task,
    architecture,
    label,
    classes,
    transform: { sha256: input.transform.sha256, spec },
    layers,
    backend,
    seed,
    params: { hidden, epochs, learningRate, batchSize, l2 },
  };

  // The stored model must predict what the trained network predicts: check on every row.
  const proba = storedModelOutputs(training, (x, n) => predictProbaOfFeatures(model, x, n));
  let drift = 0;
  proba.forEach((p, i) => {
    for (let k = 0; k < outputs; k++)
      drift = Math.max(drift, Math.abs(p[task === 'binary' ? 1 : k]! - reference[i * outputs + k]!));
  });
  checkParity(drift);

  const predicted = proba.map((p) => (task === 'binary' ? (p[1]! >= DEFAULT_THRESHOLD ? 1 : 0) : argmax(p)));
  const correct = predicted.reduce((sum, k, i) => sum + (k === yTrue[i] ? 1 : 0), 0);
  const loss =
    task === 'binary'
      ? logLoss(
          yTrue,
          proba.map((p) => p[1]!),
        )
      : multiclassLogLoss(yTrue, proba);

  const stored = await ctx.artifacts.putJson(model);
  ctx.log('trained', { backend, seconds, loss, sha256: stored.sha256, parity: drift });
  return {
    model: modelRef.parse({ kind: 'model', ...stored, task, architecture, label, classes, backend }),
    trainMetrics: { loss, accuracy: correct / rows },
    backend,
    ...(record && { training: record }),
  };
});
