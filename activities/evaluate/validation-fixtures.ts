import type { ArtifactStore } from '../artifacts/store';
import { writeDataset, type Row } from '../data/dataset';
import type { Column } from '../data/dataset';
import { modelRef, type DatasetRef, type ModelRef } from '../refs';
import type { ModelSpec } from '../train/model';

// Test fixtures: hand-made models whose predictions are known in closed form.

/**
 * A logistic model on one numeric column `x` (standardized with mean 0 and std 1), so its score is
 * sigmoid(weight · x + bias): with weight 1 and bias 0 it selects exactly the rows with x >= 0.
 */
export async function linearModel(
  artifacts: ArtifactStore,
  options: { weight?: number; bias?: number; classes?: [string, string]; label?: string } = {},
): Promise<ModelRef> {
  const label = options.label ?? 'y';
  const classes = options.classes ?? ['no', 'yes'];
  const spec: ModelSpec = {
    kind: 'kiln.model',
    version: 1,
    task: 'binary',
    architecture: 'logistic',
    label,
    classes,
    transform: {
      sha256: '0'.repeat(64),
      spec: { kind: 'kiln.transform', version: 1, label, features: [{ name: 'x', type: 'numeric', mean: 0, std: 1 }] },
    },
    layers: [{ weights: [[options.weight ?? 1]], bias: [options.bias ?? 0], activation: 'sigmoid' }],
    backend: 'test',
    seed: 0,
    params: { hidden: [], epochs: 0, learningRate: 0, batchSize: 1, l2: 0 },
  };
  const stored = await artifacts.putJson(spec);
  return modelRef.parse({
    kind: 'model',
    ...stored,
    task: 'binary',
    architecture: 'logistic',
    label,
    classes,
    backend: 'test',
  });
}

/** A dataset artifact from rows by column name. */
export const dataset = (artifacts: ArtifactStore, columns: Column[], rows: Row[]): Promise<DatasetRef> =>
  writeDataset(artifacts, columns, rows);
