import { z } from 'zod';
import {
  checkGates,
  deploy,
  evaluateClassifier,
  fitFeatures,
  readCsv,
  registerModel,
  rolloutStrategy,
  splitDataset,
  trainClassifier,
} from '../../activities/steps';
import { pipeline } from '../../dsl';

/**
 * Which site a sensor reading comes from (`indoor` or `outdoor`), from its humidity and
 * temperature: trained on a CSV of readings, held to a ROC AUC bar on held-out readings,
 * approved, registered as `sensor-site` and rolled out behind `production`, at once or as a
 * canary watched for a window. The sensor-drift example (run.ts) trains it first and its monitor
 * starts it again, on the recent readings, when the readings drift.
 */
export default pipeline(
  {
    name: 'sensor-site',
    description: 'Indoor or outdoor from humidity and temperature, gated, approved and rolled out behind production',
    params: z.object({
      data: z.string(),
      minAuc: z.number().min(0).max(1).default(0.9),
      strategy: rolloutStrategy.default({
        canary: { percent: 50, window: '15s', minRequests: 20, gates: [{ metric: 'errorRate', max: 0.05 }] },
      }),
    }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data, label: 'site' });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.25, seed: 7, stratifyBy: 'site' });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'site' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'site',
        positiveClass: 'indoor',
        architecture: 'logistic',
        epochs: 40,
        learningRate: 0.1,
        batchSize: 256,
        l2: 0.001,
        seed: 7,
      },
      { id: 'train' },
    );
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    const gate = p.step(checkGates, { metrics: heldOut.metrics, gates: [{ metric: 'roc_auc', min: params.minAuc }] });
    const registered = p.step(
      registerModel,
      { name: 'sensor-site', model: trained.model, metrics: { rocAuc: heldOut.metrics.rocAuc } },
      { id: 'register', after: [gate.outcomes] },
    );
    const release = p.approval('release', {
      show: { version: registered.version, rocAuc: heldOut.metrics.rocAuc, accuracy: heldOut.metrics.accuracy },
      timeout: '1h',
    });
    return p.step(deploy, {
      name: 'sensor-site',
      version: registered.version,
      approval: release,
      strategy: params.strategy,
    });
  },
);
