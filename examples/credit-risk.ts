import { z } from 'zod';
import { pipeline } from '../dsl';
import { checkGates, evaluateClassifier, fitFeatures, readCsv, splitDataset, trainClassifier } from '../activities/steps';

/**
 * Credit risk on the German credit data: ingest, split, fit features, train, evaluate on the
 * held-out rows, stop unless ROC AUC clears the bar, and ask a person to approve the model.
 */
export default pipeline(
  {
    name: 'credit-risk',
    description: 'Logistic regression on Statlog German Credit, gated on held-out ROC AUC and human approval',
    params: z.object({
      data: z.string().default('examples/data/german-credit.csv'),
      architecture: z.enum(['logistic', 'mlp']).default('logistic'),
      epochs: z.number().int().positive().default(200),
      learningRate: z.number().positive().default(0.05),
      seed: z.number().int().default(7),
      minAuc: z.number().min(0).max(1).default(0.75),
    }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data, label: 'class' });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: params.seed, stratifyBy: 'class' });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(trainClassifier, {
      train: split.train,
      transform: features.transform,
      label: 'class',
      positiveClass: 'bad',
      architecture: params.architecture,
      epochs: params.epochs,
      learningRate: params.learningRate,
      batchSize: 1024,
      l2: 0.001,
      seed: params.seed,
    }, { id: 'train' });
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    const gate = p.step(checkGates, { metrics: heldOut.metrics, gates: [{ metric: 'roc_auc', min: params.minAuc }] });
    p.approval('release', { show: { rocAuc: heldOut.metrics.rocAuc, f1: heldOut.metrics.f1, heldOutRows: heldOut.metrics.rows }, after: [gate.outcomes], timeout: '24h' });
    return { model: trained.model, metrics: heldOut.metrics, backend: trained.backend };
  },
);
