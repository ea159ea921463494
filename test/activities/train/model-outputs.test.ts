import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnValues } from '../../../activities/common/dataset/parquet';
import type { DenseLayer, ModelSpec } from '../../../activities/common/model/model';
import {
  predictProba,
  predictProbaOfFeatures,
  predictValues,
  predictValuesOfFeatures,
} from '../../../activities/common/model/predict';
import { transformColumns } from '../../../activities/common/model/transform-columns';
import type { TransformSpec } from '../../../activities/common/model/transform';
import { storedModelOutputs, type TrainingData } from '../../../activities/train/dense';
import { mulberry32 } from '../../../activities/common/random';

// The trainer checks the stored model and computes its training metrics on features read by
// column; they must be exactly what the row-wise predictProba / predictValues give.

const spec: TransformSpec = {
  kind: 'kiln.transform',
  version: 2,
  label: 'y',
  features: [
    { name: 'a', type: 'numeric', mean: 0.3, std: 1.7, impute: { strategy: 'median', value: 0.1 } },
    { name: 'c', type: 'categorical', categories: ['p', 'q', 'r'] },
    { name: 'b', type: 'bucketized', boundaries: [-1, 0.5, 2] },
    { name: 'gone', type: 'numeric', mean: 1, std: 2 },
  ],
};
const width = 1 + 3 + 4 + 1;
const rows = 70_000; // more than one batch

const random = mulberry32(3);
const a = Float64Array.from({ length: rows }, () => (random() < 0.1 ? NaN : random() * 6 - 3));
const b = Float64Array.from({ length: rows }, () => (random() < 0.1 ? NaN : random() * 6 - 3));
const c = Array.from({ length: rows }, () => [null, 'p', 'q', 'r', 's'][Math.floor(random() * 5)]!);
const values = new Map<string, ColumnValues>([
  ['a', a],
  ['b', b],
  ['c', c],
]);
const rowObjects = Array.from({ length: rows }, (_, i) => ({
  a: Number.isNaN(a[i]!) ? null : a[i]!,
  b: Number.isNaN(b[i]!) ? null : b[i]!,
  c: c[i]!,
}));
const training: TrainingData = {
  spec,
  data: { columns: [], rows, values },
  label: [],
  rows,
  features: transformColumns(spec, { rows, values }),
};

const layer = (inputs: number, outputs: number, activation: DenseLayer['activation']): DenseLayer => ({
  weights: Array.from({ length: inputs }, () => Array.from({ length: outputs }, () => random() * 2 - 1)),
  bias: Array.from({ length: outputs }, () => random() - 0.5),
  activation,
});
const model = (task: ModelSpec['task'], layers: DenseLayer[]): ModelSpec => ({
  kind: 'kiln.model',
  version: 1,
  task,
  architecture: 'mlp',
  label: 'y',
  classes: task === 'regression' ? [] : task === 'binary' ? ['n', 'y'] : ['k', 'l', 'm'],
  transform: { sha256: '0'.repeat(64), spec },
  layers,
  backend: 'cpu',
  seed: 1,
  params: { hidden: [5], epochs: 1, learningRate: 0.1, batchSize: 32, l2: 0 },
});

describe('the stored model on the training columns', () => {
  it('gives a binary and a multiclass classifier the probabilities predictProba gives the rows', () => {
    for (const m of [
      model('binary', [layer(width, 5, 'relu'), layer(5, 1, 'sigmoid')]),
      model('multiclass', [layer(width, 3, 'softmax')]),
    ])
      assert.deepEqual(
        storedModelOutputs(training, (x, n) => predictProbaOfFeatures(m, x, n)),
        predictProba(m, rowObjects),
      );
  });

  it('gives a regressor the values predictValues gives the rows', () => {
    const m = model('regression', [layer(width, 5, 'relu'), layer(5, 1, 'linear')]);
    assert.deepEqual(
      storedModelOutputs(training, (x, n) => predictValuesOfFeatures(m, x, n)),
      predictValues(m, rowObjects),
    );
  });
});
