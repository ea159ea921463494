import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeDataset } from '../data/dataset';
import { testContext } from '../data/test-context';
import { fitFeaturesImpl, loadTransform } from './fit';
import { applyTransform, featureNames, TransformFitter, TransformInputError, type TransformSpec } from './transform';

type Ctx = Awaited<ReturnType<typeof testContext>>;
let ctx: Ctx;
before(async () => { ctx = await testContext(); });
after(async () => { await ctx.dispose(); });

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
      kind: 'kiln.transform', version: 1, label: 'y',
      features: [
        { name: 'age', type: 'numeric', mean: 30, std: Math.sqrt(200 / 3) },
        { name: 'city', type: 'categorical', categories: ['a', 'b'] },
        { name: 'owner', type: 'categorical', categories: ['false', 'true'] },
      ],
    });
  });

  const spec: TransformSpec = {
    kind: 'kiln.transform', version: 1, label: 'y',
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
