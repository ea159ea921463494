import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findRefs } from '../../workers/artifact-refs';

const sha = (c: string) => c.repeat(64);

describe('findRefs', () => {
  it('finds refs at any depth, naming the path each sits at as its port', () => {
    const model = { kind: 'model', uri: `artifact:sha256:${sha('a')}`, sha256: sha('a'), size: 10 };
    const train = { kind: 'dataset', uri: `artifact:sha256:${sha('b')}`, sha256: sha('b'), size: 20 };
    const found = findRefs({
      model,
      data: { train },
      trials: [{ score: 1 }, { model: { ...model, sha256: sha('c') } }],
    });
    assert.deepEqual(
      found.map((r) => [r.port, r.artifact.sha256, r.artifact.kind]),
      [
        ['model', sha('a'), 'model'],
        ['data.train', sha('b'), 'dataset'],
        ['trials[1].model', sha('c'), 'model'],
      ],
    );
  });

  it('keeps what a ref says beyond its identity as stats, and a missing uri as missing', () => {
    const [dataset] = findRefs({
      dataset: {
        kind: 'dataset',
        uri: 'artifact:sha256:x',
        sha256: sha('d'),
        size: 5,
        rows: 3,
        columns: [{ name: 'x', type: 'number' }],
      },
    });
    assert.deepEqual(dataset!.artifact, {
      sha256: sha('d'),
      kind: 'dataset',
      size: 5,
      uri: 'artifact:sha256:x',
      stats: { rows: 3, columns: [{ name: 'x', type: 'number' }] },
    });
    const [bare] = findRefs({ report: { kind: 'report', sha256: sha('e'), size: 1 } });
    assert.deepEqual(bare!.artifact, { sha256: sha('e'), kind: 'report', size: 1 });
  });

  it('passes over values that only look like refs', () => {
    assert.deepEqual(
      findRefs({
        upper: { kind: 'model', sha256: sha('A'), size: 1 },
        short: { kind: 'model', sha256: 'abc', size: 1 },
        sizeless: { kind: 'model', sha256: sha('f') },
        kindless: { sha256: sha('f'), size: 1 },
        text: sha('f'),
        nothing: null,
      }),
      [],
    );
  });
});
