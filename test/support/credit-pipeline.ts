import { evaluateClassifier, fitFeatures, readCsv, splitDataset, trainClassifier } from '../../activities/steps';
import { pipeline } from '../../dsl';

// The five-step German credit pipeline that the two-worker fleet test and bench/workers/sizing.ts
// run: read, split, fit features, train a logistic regression, evaluate.

export const CREDIT_SPLIT = { testFraction: 0.2, seed: 7, stratifyBy: 'class' } as const;
export const CREDIT_TRAINING = {
  label: 'class',
  positiveClass: 'bad',
  architecture: 'logistic',
  epochs: 50,
  learningRate: 0.1,
  batchSize: 1024,
  seed: 7,
} as const;
/** Its nodes' ids. */
export const CREDIT_NODES = ['readCsv', 'split', 'fit', 'train', 'evaluate'];

/** The pipeline over the CSV at `path`, its training routed to `trainQueue` when given. */
export const creditPipeline = (name: string, path: string, trainQueue?: string) =>
  pipeline({ name }, (p) => {
    const raw = p.step(readCsv, { path, label: 'class' });
    const split = p.step(splitDataset, { dataset: raw.dataset, ...CREDIT_SPLIT });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(
      trainClassifier,
      { train: split.train, transform: features.transform, ...CREDIT_TRAINING },
      { id: 'train', ...(trainQueue ? { taskQueue: trainQueue } : {}) },
    );
    const scored = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    return { rocAuc: scored.metrics.rocAuc };
  });
