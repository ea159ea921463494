import { z } from 'zod';
import { pipeline } from '../dsl';
import {
  checkGates,
  evaluateClassifier,
  fitFeatures,
  readCsv,
  splitDataset,
  thresholdLabel,
  trainClassifier,
} from '../activities/steps';

/**
 * High or low pay on the CPS 1985 wages data: ingest, label each worker by whether their hourly
 * wage is above the median (dropping the wage itself), split, fit features, train, evaluate on
 * the held-out rows, stop unless ROC AUC clears the bar, and ask a person to approve the model.
 */
export default pipeline(
  {
    name: 'wages',
    description:
      'Logistic regression for above-median pay on CPS 1985 wages, gated on held-out ROC AUC and human approval',
    params: z.object({
      data: z.string().default('examples/data/cps-wages-1985.csv'),
      architecture: z.enum(['logistic', 'mlp']).default('logistic'),
      epochs: z.number().int().positive().default(200),
      learningRate: z.number().positive().default(0.05),
      seed: z.number().int().default(7),
      minAuc: z.number().min(0).max(1).default(0.75),
    }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data });
    const labelled = p.step(thresholdLabel, {
      dataset: raw.dataset,
      column: 'wage',
      label: 'pay',
      threshold: 'median',
      above: 'high',
      atOrBelow: 'low',
    });
    const split = p.step(splitDataset, {
      dataset: labelled.dataset,
      testFraction: 0.2,
      seed: params.seed,
      stratifyBy: 'pay',
    });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'pay' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'pay',
        positiveClass: 'high',
        architecture: params.architecture,
        epochs: params.epochs,
        learningRate: params.learningRate,
        batchSize: 1024,
        l2: 0.001,
        seed: params.seed,
      },
      { id: 'train' },
    );
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    const gate = p.step(checkGates, { metrics: heldOut.metrics, gates: [{ metric: 'roc_auc', min: params.minAuc }] });
    p.approval('release', {
      show: {
        rocAuc: heldOut.metrics.rocAuc,
        f1: heldOut.metrics.f1,
        heldOutRows: heldOut.metrics.rows,
        medianWage: labelled.threshold,
      },
      after: [gate.outcomes],
      timeout: '24h',
    });
    return { model: trained.model, metrics: heldOut.metrics, backend: trained.backend, medianWage: labelled.threshold };
  },
);
