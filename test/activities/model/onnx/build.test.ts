import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransformSpec } from '../../../../activities/common/model/transform';
import type { ModelSpec } from '../../../../activities/common/model/model';
import { predictProba } from '../../../../activities/common/model/predict';
import { buildOnnx, onnxSignatureOf } from '../../../../activities/model/onnx/build';
import { createScorer, type OnnxRecord } from '../../../../activities/model/onnx/session';
import { signatureMismatches } from '../../../../activities/common/model/onnx-signature';

const transform: TransformSpec = {
  kind: 'kiln.transform',
  version: 1,
  label: 'y',
  features: [
    { name: 'age', type: 'numeric', mean: 35.5, std: 11.25 },
    { name: 'color', type: 'categorical', categories: ['blue', 'green', 'red'] },
    { name: 'amount', type: 'numeric', mean: 3200, std: 2800 },
    { name: 'member', type: 'categorical', categories: ['false', 'true'] },
  ],
};

const base: Omit<ModelSpec, 'task' | 'architecture' | 'classes' | 'layers'> = {
  kind: 'kiln.model',
  version: 1,
  label: 'y',
  transform: { sha256: 'f'.repeat(64), spec: transform },
  backend: 'cpu',
  seed: 1,
  params: { hidden: [], epochs: 1, learningRate: 0.1, batchSize: 8, l2: 0 },
};

const binary: ModelSpec = {
  ...base,
  task: 'binary',
  architecture: 'logistic',
  classes: ['no', 'yes'],
  layers: [{ weights: [[0.8], [-0.5], [0.25], [1.1], [0.003], [-0.7], [0.9]], bias: [-0.2], activation: 'sigmoid' }],
};

const multiclass: ModelSpec = {
  ...base,
  task: 'multiclass',
  architecture: 'mlp',
  classes: ['a', 'b', 'c'],
  layers: [
    {
      weights: Array.from({ length: 7 }, (_, i) => [0.3 * i - 1, 0.5 - 0.1 * i, (-1) ** i * 0.4, 0.2]),
      bias: [0.1, -0.1, 0.05, 0],
      activation: 'relu',
    },
    {
      weights: [
        [1, -1, 0.5],
        [-0.4, 0.9, 0.1],
        [0.3, 0.2, -0.8],
        [0.6, 0.6, 0.6],
      ],
      bias: [0, 0.2, -0.2],
      activation: 'softmax',
    },
  ],
};

const records: OnnxRecord[] = [
  { age: 23, color: 'red', amount: 1200, member: true },
  { age: 67, color: 'blue', amount: 15000, member: false },
  { age: null, color: 'green', amount: 4000, member: 'true' },
  { age: 41, color: 'purple', amount: null, member: null },
  { age: '52', color: null, amount: '830.5', member: false },
  { age: Number.NaN, color: '', amount: 0, member: 'maybe' },
];

async function score(model: ModelSpec) {
  const scorer = await createScorer(buildOnnx(model), onnxSignatureOf(model));
  try {
    const out = await scorer.run(records);
    return { scorer, proba: await scorer.predictProba(records), labels: out.label!.data as string[] };
  } finally {
    await scorer.close();
  }
}

const maxDiff = (a: number[][], b: number[][]) =>
  Math.max(...a.flatMap((row, i) => row.map((v, k) => Math.abs(v - b[i]![k]!))));

describe('buildOnnx', () => {
  it("computes the trainer's binary probabilities from raw values, including missing and unseen ones", async () => {
    const { proba, labels } = await score(binary);
    const expected = predictProba(binary, records);
    assert.ok(maxDiff(proba, expected) < 1e-6, `max diff ${maxDiff(proba, expected)}`);
    assert.deepEqual(
      labels,
      expected.map((p) => (p[1]! >= 0.5 ? 'yes' : 'no')),
    );
  });

  it("computes the trainer's softmax probabilities through a hidden ReLU layer, with the argmax label", async () => {
    const { proba, labels } = await score(multiclass);
    const expected = predictProba(multiclass, records);
    assert.ok(maxDiff(proba, expected) < 1e-6, `max diff ${maxDiff(proba, expected)}`);
    assert.deepEqual(
      labels,
      expected.map((p) => multiclass.classes[p.indexOf(Math.max(...p))]),
    );
  });

  it('encodes an unseen and a missing category as all zeros, like a row with no category', async () => {
    const [unseen, missing] = await (async () => {
      const scorer = await createScorer(buildOnnx(binary), onnxSignatureOf(binary));
      try {
        return [
          await scorer.predictProba([{ age: 30, color: 'purple', amount: 100, member: 'true' }]),
          await scorer.predictProba([{ age: 30, color: null, amount: 100, member: 'true' }]),
        ];
      } finally {
        await scorer.close();
      }
    })();
    assert.deepEqual(unseen, missing);
    const z = ((30 - 35.5) / 11.25) * 0.8 + ((100 - 3200) / 2800) * 0.003 + 0.9 - 0.2;
    assert.ok(Math.abs(unseen[0]![1]! - 1 / (1 + Math.exp(-z))) < 1e-6);
  });

  it('has exactly the signature onnxSignatureOf describes, as onnxruntime reads it', async () => {
    const signature = onnxSignatureOf(multiclass);
    assert.deepEqual(
      signature.inputs.map((i) => [i.name, i.type]),
      [
        ['age', 'float32'],
        ['color', 'string'],
        ['amount', 'float32'],
        ['member', 'string'],
      ],
    );
    assert.deepEqual(
      signature.outputs.map((o) => [o.name, o.type, o.shape]),
      [
        ['probabilities', 'float32', ['N', 3]],
        ['label', 'string', ['N']],
      ],
    );
    const scorer = await createScorer(buildOnnx(multiclass), signature);
    try {
      assert.deepEqual(signatureMismatches(signature, scorer.session.inputMetadata, scorer.session.outputMetadata), []);
    } finally {
      await scorer.close();
    }
  });

  it('scores a single row and an empty batch', async () => {
    const scorer = await createScorer(buildOnnx(binary), onnxSignatureOf(binary));
    try {
      const one = await scorer.run([records[0]!]);
      assert.deepEqual(one.probabilities!.dims, [1, 2]);
      assert.deepEqual(one.label!.dims, [1]);
      assert.deepEqual(await scorer.predictProba([]), []);
    } finally {
      await scorer.close();
    }
  });

  it('is deterministic: the same model gives the same bytes', () => {
    assert.deepEqual(buildOnnx(multiclass), buildOnnx(multiclass));
  });

  it('refuses a model whose layers do not fit its transform, naming the layer', () => {
    const broken: ModelSpec = {
      ...binary,
      layers: [{ ...binary.layers[0]!, weights: binary.layers[0]!.weights.slice(1) }],
    };
    assert.throws(() => buildOnnx(broken), /layer 0 expects 6 inputs but receives 7/);
  });

  it('refuses a feature named like an output, and the empty string as a category', () => {
    const named = structuredClone(binary);
    named.transform.spec.features[0]!.name = 'probabilities';
    assert.throws(() => buildOnnx(named), /feature 'probabilities' has the name of a graph output/);
    const empty = structuredClone(binary);
    (empty.transform.spec.features[1] as { categories: string[] }).categories = ['', 'blue', 'green'];
    assert.throws(() => buildOnnx(empty), /'color' has the empty string as a category/);
  });

  it('refuses a text value for a numeric input, naming the input and the row', async () => {
    const scorer = await createScorer(buildOnnx(binary), onnxSignatureOf(binary));
    try {
      await assert.rejects(
        scorer.predictProba([records[0]!, { ...records[0]!, amount: 'lots' }]),
        /input 'amount', row 2: expected a number, got "lots"/,
      );
      await assert.rejects(
        scorer.predictProba([{ ...records[0]!, age: ' ' }]),
        /input 'age', row 1: expected a number, got " "/,
      );
    } finally {
      await scorer.close();
    }
  });

  it('imputes and bucketizes as applyTransform does, at the boundaries and on missing values', async () => {
    const spec: TransformSpec = {
      kind: 'kiln.transform',
      version: 2,
      label: 'y',
      features: [
        { name: 'age', type: 'bucketized', boundaries: [0.1, 25, 40.5], impute: { strategy: 'median', value: 33 } },
        { name: 'amount', type: 'bucketized', boundaries: [1000, 5000] },
        { name: 'rate', type: 'numeric', mean: 2, std: 0.5, impute: { strategy: 'constant', value: 3.25 } },
        {
          name: 'color',
          type: 'categorical',
          categories: ['blue', 'green', 'red'],
          impute: { strategy: 'mostFrequent', value: 'green' },
        },
      ],
    };
    const model: ModelSpec = {
      ...base,
      transform: { sha256: 'e'.repeat(64), spec },
      task: 'binary',
      architecture: 'logistic',
      classes: ['no', 'yes'],
      layers: [
        {
          weights: [[0.5], [-0.4], [0.3], [1.2], [-0.6], [0.2], [0.9], [0.7], [-0.8], [0.35], [-1.1]],
          bias: [0.05],
          activation: 'sigmoid',
        },
      ],
    };
    const rows: OnnxRecord[] = [
      { age: 0.1, amount: 1000, rate: 2.5, color: 'red' },
      { age: 0.099, amount: 999.5, rate: null, color: null },
      { age: 25, amount: 5000, rate: '1', color: 'purple' },
      { age: null, amount: null, rate: Number.NaN, color: '' },
      { age: 40.5, amount: 4999.99, rate: 2, color: 'blue' },
      { age: 99, amount: 1e6, rate: -3, color: 'green' },
    ];
    const scorer = await createScorer(buildOnnx(model), onnxSignatureOf(model));
    try {
      assert.deepEqual(
        onnxSignatureOf(model).inputs.map((i) => i.type),
        ['float32', 'float32', 'float32', 'string'],
      );
      const actual = await scorer.predictProba(rows);
      const expected = predictProba(model, rows);
      assert.ok(maxDiff(actual, expected) < 1e-6, `max diff ${maxDiff(actual, expected)}`);
    } finally {
      await scorer.close();
    }
  });

  it('refuses bucket boundaries that are not increasing and an impute category outside the categories', () => {
    const unordered = structuredClone(binary);
    unordered.transform.spec.features[0] = { name: 'age', type: 'bucketized', boundaries: [40, 20] };
    unordered.layers = [{ ...binary.layers[0]!, weights: [[0.1], [0.2], ...binary.layers[0]!.weights] }];
    assert.throws(() => buildOnnx(unordered), /bucketized feature 'age' has boundaries \[40, 20\]/);
    const stray = structuredClone(binary);
    (stray.transform.spec.features[1] as { impute?: unknown }).impute = { strategy: 'constant', value: 'unknown' };
    assert.throws(() => buildOnnx(stray), /'color' imputes 'unknown', which is not one of its categories/);
  });
});
