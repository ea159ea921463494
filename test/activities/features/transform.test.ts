import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeDataset } from '../../../activities/common/dataset/dataset';
import { fileTestContext } from '../../support/step-context';
import { fitFeaturesImpl } from '../../../activities/features/fit';
import { loadTransform } from '../../../activities/common/model/transform';
import { TransformFitter } from '../../../activities/features/fitter';
import { quantile } from '../../../activities/common/metrics/quantile';
import {
  applyTransform,
  featureNames,
  TransformInputError,
  type TransformSpec,
} from '../../../activities/common/model/transform';

const ctx = fileTestContext();

const columns = [
  { name: 'age', type: 'integer' as const },
  { name: 'city', type: 'string' as const },
  { name: 'owner', type: 'boolean' as const },
  { name: 'y', type: 'string' as const },
];
const rows = [
  { age: 20, city: 'b', owner: true, y: 'no' },
  { age: 30, city: 'a', owner: false, y: 'yes' },
  { age: null, city: null, owner: true, y: 'no' },
  { age: 40, city: 'b', owner: null, y: 'yes' },
];

describe('feature transform', () => {
  it('fits mean and population std, imputing nothing, and sorted categories', () => {
    const fitter = new TransformFitter('y', columns.slice(0, 3));
    rows.forEach((r) => fitter.observe(r));
    assert.deepEqual(fitter.finish(), {
      kind: 'kiln.transform',
      version: 1,
      label: 'y',
      features: [
        { name: 'age', type: 'numeric', mean: 30, std: Math.sqrt(200 / 3) },
        { name: 'city', type: 'categorical', categories: ['a', 'b'] },
        { name: 'owner', type: 'categorical', categories: ['false', 'true'] },
      ],
    });
  });

  const spec: TransformSpec = {
    kind: 'kiln.transform',
    version: 1,
    label: 'y',
    features: [
      { name: 'age', type: 'numeric', mean: 30, std: 10 },
      { name: 'city', type: 'categorical', categories: ['a', 'b'] },
      { name: 'owner', type: 'categorical', categories: ['false', 'true'] },
    ],
  };

  it('standardizes numbers and one-hot encodes categories in feature order', () => {
    assert.deepEqual(applyTransform(spec, { age: 45, city: 'b', owner: false }), [1.5, 0, 1, 1, 0]);
    assert.deepEqual(featureNames(spec), ['age', 'city=a', 'city=b', 'owner=false', 'owner=true']);
  });

  it('imputes a missing number with the mean and encodes missing or unseen categories as zeros', () => {
    assert.deepEqual(applyTransform(spec, { age: null, city: 'z', owner: undefined }), [0, 0, 0, 0, 0]);
    assert.deepEqual(applyTransform(spec, {}), [0, 0, 0, 0, 0]);
  });

  it('accepts numeric strings and rejects text in a numeric feature', () => {
    assert.deepEqual(applyTransform(spec, { age: '20', city: 'a', owner: 'true' }), [-1, 1, 0, 0, 1]);
    assert.throws(() => applyTransform(spec, { age: 'old' }), TransformInputError);
  });

  it('stores the fitted transform as a content-addressed artifact', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    const { transform } = await fitFeaturesImpl.run({ dataset, label: 'y' }, ctx);
    assert.deepEqual(transform.features, ['age', 'city', 'owner']);
    assert.equal(transform.width, 5);
    const stored = await loadTransform(ctx.artifacts, transform.uri);
    assert.equal(stored.label, 'y');
    const again = await fitFeaturesImpl.run({ dataset, label: 'y' }, ctx);
    assert.equal(again.transform.sha256, transform.sha256);
    const fewer = await fitFeaturesImpl.run({ dataset, label: 'y', exclude: ['city'] }, ctx);
    assert.deepEqual(fewer.transform.features, ['age', 'owner']);
  });

  it('rejects a label the dataset does not have', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    await assert.rejects(fitFeaturesImpl.run({ dataset, label: 'class' }, ctx), /column 'class' is not in the dataset/);
  });
});

describe('feature transform: impute and bucketize', () => {
  const wide = [
    { name: 'age', type: 'integer' as const },
    { name: 'income', type: 'number' as const },
    { name: 'city', type: 'string' as const },
    { name: 'y', type: 'string' as const },
  ];
  const data = [
    { age: 20, income: 1, city: 'b', y: 'no' },
    { age: 30, income: 2, city: 'a', y: 'yes' },
    { age: null, income: 3, city: 'b', y: 'no' },
    { age: 40, income: 4, city: null, y: 'yes' },
    { age: 90, income: null, city: 'c', y: 'no' },
  ];
  const fit = (options: ConstructorParameters<typeof TransformFitter>[2]) => {
    const fitter = new TransformFitter('y', wide.slice(0, 3), options);
    data.forEach((r) => fitter.observe(r));
    return fitter.finish();
  };

  it('keeps version 1 and the plain encoding when nothing is declared', () => {
    const spec = fit({});
    assert.equal(spec.version, 1);
    assert.ok(spec.features.every((f) => !('impute' in f)));
  });

  it('imputes the median and the most frequent category, fitted on the present values, as version 2', () => {
    const spec = fit({ impute: { age: 'median', city: 'mostFrequent' } });
    assert.equal(spec.version, 2);
    assert.deepEqual(spec.features[0], {
      name: 'age',
      type: 'numeric',
      mean: 45,
      std: Math.sqrt(725),
      impute: { strategy: 'median', value: 35 },
    });
    assert.deepEqual(spec.features[2], {
      name: 'city',
      type: 'categorical',
      categories: ['a', 'b', 'c'],
      impute: { strategy: 'mostFrequent', value: 'b' },
    });
    // age 35 → (35 − 45) / √650; city missing → 'b'; an unseen city still encodes as zeros.
    assert.deepEqual(applyTransform(spec, { age: null, income: 2.5, city: null }), [-10 / Math.sqrt(725), 0, 0, 1, 0]);
    assert.deepEqual(applyTransform(spec, { age: 45, income: 2.5, city: 'z' }), [0, 0, 0, 0, 0]);
  });

  it('imputes constants, making a category constant a category of its own', () => {
    const spec = fit({ impute: { age: { constant: -1 }, city: { constant: 'unknown' } } });
    assert.deepEqual(spec.features[0]!.type === 'numeric' && spec.features[0]!.impute, {
      strategy: 'constant',
      value: -1,
    });
    assert.deepEqual(spec.features[2], {
      name: 'city',
      type: 'categorical',
      categories: ['a', 'b', 'c', 'unknown'],
      impute: { strategy: 'constant', value: 'unknown' },
    });
    assert.deepEqual(applyTransform(spec, { age: null, income: 2.5, city: null }).slice(2), [0, 0, 0, 1]);
    assert.equal(applyTransform(spec, { age: null, income: 2.5, city: 'a' })[0], (-1 - 45) / Math.sqrt(725));
  });

  it('buckets by explicit boundaries, one-hot, a boundary opening its bucket and missing as zeros', () => {
    const spec = fit({ bucketize: { age: { boundaries: [25, 50] } } });
    assert.deepEqual(spec.features[0], { name: 'age', type: 'bucketized', boundaries: [25, 50] });
    assert.deepEqual(featureNames(spec).slice(0, 3), ['age<25', 'age[25,50)', 'age>=50']);
    const bucket = (age: unknown) => applyTransform(spec, { age, income: 2.5, city: 'a' }).slice(0, 3);
    assert.deepEqual(
      [bucket(24.9), bucket(25), bucket('49'), bucket(50), bucket(null)],
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, 0],
      ],
    );
  });

  it('fits quantile buckets on the training values and buckets an imputed value', () => {
    const spec = fit({ bucketize: { income: { quantiles: 4 } }, impute: { income: 'median' } });
    // income 1, 2, 3, 4: quartiles by linear interpolation, as numpy's.
    assert.deepEqual(spec.features[1], {
      name: 'income',
      type: 'bucketized',
      boundaries: [1.75, 2.5, 3.25],
      impute: { strategy: 'median', value: 2.5 },
    });
    assert.deepEqual(applyTransform(spec, { age: 30, income: null, city: 'a' }).slice(1, 5), [0, 0, 1, 0]);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  });

  it('drops quantile cuts that ties make equal', () => {
    const fitter = new TransformFitter('y', [{ name: 'n', type: 'integer' }], { bucketize: { n: { quantiles: 4 } } });
    [1, 1, 1, 1, 1, 1, 2, 3].forEach((n) => fitter.observe({ n }));
    assert.deepEqual(fitter.finish().features[0], { name: 'n', type: 'bucketized', boundaries: [1, 1.25] });
  });

  it('rejects a declaration that does not fit its column, naming the column', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ impute: { city: 'median' } }, /column 'city': is string; impute it with 'mostFrequent'/],
      [{ impute: { age: 'mostFrequent' } }, /column 'age': is numeric; impute it with 'mean', 'median'/],
      [{ impute: { age: { constant: 'old' } } }, /column 'age': is numeric; its impute constant must be a number/],
      [
        { bucketize: { city: { quantiles: 3 } } },
        /column 'city': is string, not numeric; only numbers can be bucketized/,
      ],
      [
        { bucketize: { age: { boundaries: [30, 20] } } },
        /column 'age': bucket boundaries \[30, 20\] must be finite and strictly increasing/,
      ],
      [{ impute: { height: 'mean' } }, /column 'height': impute names a column that is not a feature/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        fitFeaturesImpl.run({ dataset, label: 'y', ...options }, ctx),
        (error: Error & { nonRetryable?: boolean }) => {
          assert.match(error.message, message);
          assert.equal(error.nonRetryable, true);
          return true;
        },
      );
    }
  });

  it('stores a version-2 transform that loadTransform reads back', async () => {
    const dataset = await writeDataset(ctx.artifacts, columns, rows);
    const { transform } = await fitFeaturesImpl.run(
      {
        dataset,
        label: 'y',
        impute: { age: 'median', city: 'mostFrequent' },
        bucketize: { age: { boundaries: [25] } },
      },
      ctx,
    );
    assert.equal(transform.width, 2 + 2 + 2);
    const stored = await loadTransform(ctx.artifacts, transform.uri);
    assert.equal(stored.version, 2);
    assert.deepEqual(stored.features[0], {
      name: 'age',
      type: 'bucketized',
      boundaries: [25],
      impute: { strategy: 'median', value: 30 },
    });
  });
});
