import assert from 'node:assert/strict';
import { it } from 'node:test';
import { trainingDataset } from '../../monitor/lineage';
import type { LineageGraph, LineageNode } from '../../store';

// The training dataset of a model, found by walking its upstream lineage back from its artifact.

const sha = (c: string) => c.repeat(64);
const artifact = (c: string, kind: string): LineageNode => ({
  type: 'artifact',
  id: `artifact:${sha(c)}`,
  sha256: sha(c),
  kind,
  uri: `artifact:sha256:${sha(c)}`,
  size: 1,
  mediaType: null,
  schema: null,
  stats: null,
  createdAt: '2026-11-30T00:00:00Z',
});
const graph = (edges: LineageGraph['edges'], nodes: LineageNode[]): LineageGraph => ({
  direction: 'upstream',
  root: 'model:m@1',
  maxDepth: 32,
  truncated: false,
  nodes,
  edges,
});
const input = (c: string, step: string, port: string) =>
  ({ from: `artifact:${sha(c)}`, to: `step:${step}`, type: 'input', port }) as const;
const output = (step: string, c: string) =>
  ({ from: `step:${step}`, to: `artifact:${sha(c)}`, type: 'output', port: 'model' }) as const;

it('finds the dataset the training step read on its train port, not its other datasets', () => {
  const found = trainingDataset(
    graph(
      [
        input('a', 'train', 'validation'),
        input('b', 'train', 'train'),
        input('t', 'train', 'transform'),
        output('train', 'f'),
      ],
      [artifact('a', 'dataset'), artifact('b', 'dataset'), artifact('t', 'transform'), artifact('f', 'model')],
    ),
    sha('f'),
  );
  assert.deepEqual(found, { sha256: sha('b'), uri: `artifact:sha256:${sha('b')}`, port: 'train' });
});

it('walks back through steps that derived the model from another model (an ONNX export)', () => {
  const found = trainingDataset(
    graph(
      [input('b', 'train', 'train'), output('train', 'f'), input('f', 'export', 'model'), output('export', 'e')],
      [artifact('b', 'dataset'), artifact('f', 'model'), artifact('e', 'onnx')],
    ),
    sha('e'),
  );
  assert.equal(found?.sha256, sha('b'));
});

it('finds nothing for an artifact no recorded step produced', () => {
  assert.equal(trainingDataset(graph([], [artifact('f', 'model')]), sha('f')), undefined);
});
