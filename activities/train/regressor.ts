import type { ColumnValues } from '../common/dataset/parquet';
import { invalidData } from '../common/failures';
import { transformWidth } from '../common/model/transform';
import { regressionMetrics } from '../common/metrics/regression';
import { implement } from '../library';
import { modelRef } from '../refs';
import { checkParity, hiddenLayers, loadTrainingData, storedModelOutputs, trainDense } from './dense';
import type { DenseLayer, ModelSpec } from '../common/model/model';
import { predictValuesOfFeatures } from '../common/model/predict';
import { trainRegressor } from './steps';

/** The label of every row as a finite number; fails naming the first row that has none (NaN in a column of numbers is missing). */
export function targetsOf(column: ColumnValues, label: string): Float64Array {
  const numbers = column instanceof Float64Array;
  return Float64Array.from(column, (value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const missing = value === null || value === undefined || (numbers && Number.isNaN(value));
      const what = missing ? 'no value' : `the value ${JSON.stringify(value)}`;
      throw invalidData(`row ${i + 1} has ${what} for the label '${label}'; a regressor needs a number in every row`, {
        label,
        row: i + 1,
      });
    }
    return value;
  });
}

/** The last layer rescaled so that it outputs y = mean + std · z for the z it was trained on. */
function unstandardize(layer: DenseLayer, target: { mean: number; std: number }): DenseLayer {
  return {
    ...layer,
    weights: layer.weights.map((row) => row.map((w) => w * target.std)),
    bias: layer.bias.map((b) => b * target.std + target.mean),
  };
}

export const trainRegressorImpl = implement(trainRegressor, async (input, ctx) => {
  const { label, architecture, epochs, learningRate, seed } = input;
  const l2 = input.l2 ?? 0;
  const hidden = hiddenLayers(architecture, input.hidden);
  const training = await loadTrainingData(ctx, input);
  const { spec, rows, features } = training;
  const type = training.data.columns.find((c) => c.name === label)!.type;
  if (type !== 'number' && type !== 'integer') {
    throw invalidData(
      `the label '${label}' is a ${type} column; a regressor needs a numeric label (use train.classifier for classes)`,
      { label, type },
    );
  }
  const y = targetsOf(training.label, label);
  // Train on the standardized label, so that learning rates carry across units.
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const std = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length) || 1;
  const target = { mean, std };
  const width = transformWidth(spec);

  const trained = await trainDense(
    ctx,
    { features, targets: Float32Array.from(y, (v) => (v - mean) / std), rows },
    { inputs: width, hidden, outputs: 1, head: 'linear', learningRate, l2, seed },
    {
      epochs,
      batchSize: input.batchSize,
      earlyStopping: input.earlyStopping,
      describe: { task: 'regression', architecture, target },
    },
  );
  const { batchSize } = trained.record;
  const layers = [...trained.layers.slice(0, -1), unstandardize(trained.layers.at(-1)!, target)];
  const { backend } = trained;
  const model: ModelSpec = {
    kind: 'kiln.model',
    version: 1,
    task: 'regression',
    architecture,
    label,
    classes: [],
    transform: { sha256: input.transform.sha256, spec },
    layers,
    backend,
    seed,
    params: { hidden, epochs, learningRate, batchSize, l2 },
    target,
  };

  // The stored model must predict what the trained network predicts: check on every row, in standardized units.
  const predicted = storedModelOutputs(training, (x, n) => predictValuesOfFeatures(model, x, n));
  let drift = 0;
  predicted.forEach((v, i) => {
    drift = Math.max(drift, Math.abs((v - mean) / std - trained.reference[i]!));
  });
  checkParity(drift);

  const trainMetrics = regressionMetrics(y, predicted);
  const stored = await ctx.artifacts.putJson(model);
  ctx.log('trained', { backend, seconds: trained.seconds, ...trainMetrics, sha256: stored.sha256, parity: drift });
  return {
    model: modelRef.parse({ kind: 'model', ...stored, task: 'regression', architecture, label, classes: [], backend }),
    trainMetrics,
    backend,
    training: trained.record,
  };
});
