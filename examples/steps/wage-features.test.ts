import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StepTestEnvironment } from 'kiln/testing';
import { addRatioImpl } from './wage-features';

describe('features.addRatio', () => {
  const envs: StepTestEnvironment[] = [];
  const environment = async () => {
    const env = await StepTestEnvironment.create();
    envs.push(env);
    return env;
  };
  after(() => Promise.all(envs.map((env) => env.dispose())));

  it('adds the ratio column, missing where the divisor is zero, and reports progress', async () => {
    const env = await environment();
    const dataset = await env.dataset(
      [
        { name: 'wage', type: 'number' },
        { name: 'education', type: 'integer' },
      ],
      [
        [10, 5],
        [9, 0],
      ],
    );
    const out = await env.run(addRatioImpl, { dataset, numerator: 'wage', denominator: 'education', as: 'perYear' });
    assert.equal(out.missing, 1);
    assert.deepEqual((await env.readDataset(out.dataset)).rows, [
      { wage: 10, education: 5, perYear: 2 },
      { wage: 9, education: 0, perYear: null },
    ]);
    assert.deepEqual(env.heartbeats.at(-1), { rows: 2, of: 2 });
  });

  it('refuses a text column with a non-retryable InvalidData failure', async () => {
    const env = await environment();
    const dataset = await env.dataset([{ name: 'name', type: 'string' }], [['Ada']]);
    await assert.rejects(env.run(addRatioImpl, { dataset, numerator: 'name', denominator: 'name', as: 'r' }), {
      type: 'InvalidData',
      nonRetryable: true,
      message: "column 'name' holds string values; a ratio needs numbers",
    });
  });

  it('stops when the run is cancelled', async () => {
    const env = await environment();
    const dataset = await env.dataset([{ name: 'x', type: 'number' }], [[1]]);
    env.cancel();
    await assert.rejects(env.run(addRatioImpl, { dataset, numerator: 'x', denominator: 'x', as: 'r' }), /cancelled/);
  });
});
