import assert from 'node:assert/strict';
import { it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { builtinSteps } from '../../../activities';
import { ArtifactStore } from '../../../activities/artifacts/store';
import { loadDataset } from '../../../activities/common/dataset/dataset';
import {
  checkGates,
  evaluateClassifier,
  exportOnnx,
  fitFeatures,
  readCsv,
  registerModel,
  scoreModel,
  splitDataset,
  trainClassifier,
} from '../../../activities/steps';
import type { DatasetRef } from '../../../activities/refs';
import { pipeline } from '../../../dsl';
import { testBackends } from '../../support/backends';
import { recordingEngine } from '../../fixtures/recording-engine';
import { SYSTEM } from '../../../store/access';

// The lifecycle on a real Temporal worker with a store: evaluate (gated on PR AUC, Brier score and
// calibration error), export to ONNX, batch-score with both engines, register the ONNX graph.
const lifecycle = pipeline(
  { name: 'score-lifecycle', params: z.object({ maxCalibrationError: z.number().default(0.2) }) },
  (p, params) => {
    const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'class',
        positiveClass: 'bad',
        architecture: 'logistic',
        epochs: 100,
        learningRate: 0.05,
        batchSize: 1024,
        l2: 0.001,
        seed: 7,
      },
      { id: 'train' },
    );
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    p.step(checkGates, {
      metrics: heldOut.metrics,
      gates: [
        { metric: 'pr_auc', min: 0.4 },
        { metric: 'brier_score', max: 0.25 },
        { metric: 'calibration_error', max: params.maxCalibrationError },
      ],
    });
    const exported = p.step(exportOnnx, { model: trained.model });
    const kiln = p.step(scoreModel, { model: trained.model, dataset: split.test }, { id: 'scoreKiln' });
    const onnx = p.step(scoreModel, { model: exported.onnx, dataset: split.test, engine: 'onnx' }, { id: 'scoreOnnx' });
    const registered = p.step(registerModel, {
      name: 'credit-onnx',
      model: exported.onnx,
      signature: exported.signature,
      metrics: heldOut.metrics,
    });
    return {
      metrics: heldOut.metrics,
      kiln: kiln.predictions,
      onnx: onnx.predictions,
      byClass: kiln.summary.byClass,
      onnxByClass: onnx.summary.byClass,
      version: registered.version,
    };
  },
);

// Compiled by tsc, never run: scoring takes a model or an ONNX graph, not a dataset.
export const misuse = pipeline({ name: 'score-misuse' }, (p) => {
  const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
  // @ts-expect-error a dataset handle is not a model
  p.step(scoreModel, { model: raw.dataset, dataset: raw.dataset });
  return {};
});

const env = recordingEngine(
  testBackends().find((b) => b.name === 'pglite')!,
  builtinSteps,
);

it('gates on the probability metrics, scores the holdout with both engines and registers the ONNX graph, on Temporal', async () => {
  const handle = await env.kiln.start(lifecycle);
  const { output } = (await handle.result()) as {
    output: {
      metrics: Record<string, number>;
      kiln: DatasetRef;
      onnx: DatasetRef;
      byClass: Record<string, number>;
      onnxByClass: Record<string, number>;
      version: number;
    };
  };
  for (const key of ['prAuc', 'brierScore', 'calibrationError'])
    assert.ok(output.metrics[key]! > 0 && output.metrics[key]! < 1, `${key} ${output.metrics[key]}`);
  const artifacts = new ArtifactStore(env.kiln.artifactsDir);
  const [a, b] = await Promise.all([loadDataset(artifacts, output.kiln), loadDataset(artifacts, output.onnx)]);
  assert.equal(a.rows.length, 200);
  a.rows.forEach((row, i) =>
    assert.ok(Math.abs((row.p_bad as number) - (b.rows[i]!.p_bad as number)) <= 1e-5, `row ${i + 1}`),
  );
  assert.deepEqual(output.onnxByClass, output.byClass);
  const version = await env.store.registry.getModelVersion(SYSTEM, 'credit-onnx', output.version);
  assert.equal((version.signature as { format?: string }).format, 'onnx');
  assert.equal(version.metrics.prAuc, output.metrics.prAuc);
});

it('stops the run at a calibration_error gate the model does not meet, naming the metric', async () => {
  const handle = await env.kiln.start(lifecycle, { maxCalibrationError: 0.01 });
  await assert.rejects(handle.result(), (error: unknown) => {
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof ApplicationFailure, String(error));
    assert.equal(error.cause.type, 'GateFailed');
    assert.match(error.cause.message, /calibration_error 0\.0\d+ is above the gate 0\.010/);
    return true;
  });
});
