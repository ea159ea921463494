import { z } from 'zod';
import { pipeline, type Deep } from '../dsl';
import {
  checkGates,
  checkQuality,
  evaluateClassifier,
  evaluateFairness,
  evaluateRobustness,
  fitFeatures,
  gridSearch,
  readCsv,
  recordTrial,
  registerModel,
  selectTrial,
  deploy,
  splitDataset,
  trainClassifier,
  validateChampion,
} from '../activities/steps';

// Too little regularization against too much, a slow rate against a fast one: 4 trials.
const space = { learningRate: [0.01, 0.1], l2: [0.001, 0.1] } as const;

/**
 * Credit risk on the German credit data, the whole lifecycle: check the data, tune on a
 * validation split, score the chosen model once on held-out rows, hold it to bars on AUC,
 * fairness, robustness and the current production model, register it, and promote it to
 * production only when a person with the approver role says so.
 */
export default pipeline(
  {
    name: 'credit-risk',
    description:
      'Tuned logistic regression on Statlog German Credit: data checks, held-out AUC, fairness and champion gates, registry, approved promotion',
    params: z.object({
      data: z.string().default('examples/data/german-credit.csv'),
      architecture: z.enum(['logistic', 'mlp']).default('logistic'),
      epochs: z.number().int().positive().default(100),
      seed: z.number().int().default(7),
      minAuc: z.number().min(0).max(1).default(0.75),
      // The share of live requests the new version answers while it is watched, and for how long.
      canaryPercent: z.number().int().min(1).max(99).default(10),
      canaryWindow: z.string().default('10m'),
    }),
  },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data, label: 'class' });
    // Nothing is split, fitted or trained until the data has passed: a failed check stops the run.
    const quality = p.step(checkQuality, {
      dataset: raw.dataset,
      checks: [
        { column: 'class', notNull: true, allowed: ['good', 'bad'] },
        { column: 'age', notNull: true, min: 18, max: 100 },
        { column: 'credit_amount', min: 0 },
        { column: 'duration', type: 'integer', notNull: true },
        { rowCount: { min: 500 } },
      ],
    });
    const split = p.step(
      splitDataset,
      { dataset: raw.dataset, testFraction: 0.2, seed: params.seed, stratifyBy: 'class' },
      { after: [quality.passed] },
    );
    // Hyperparameters are chosen on a validation part of the training rows: the test rows are
    // looked at once, by the chosen model, or their score would flatter it.
    const tuning = p.step(
      splitDataset,
      { dataset: split.train, testFraction: 0.2, seed: params.seed, stratifyBy: 'class' },
      { id: 'tuningSplit' },
    );
    const features = p.step(fitFeatures, { dataset: tuning.train, label: 'class' }, { id: 'features' });

    const search = p.step(
      gridSearch(space),
      { space, objective: { metric: 'rocAuc', goal: 'max' }, experiment: 'credit-risk' },
      { id: 'search' },
    );
    const trials = p.map(
      search.trials,
      (trial) => {
        const trained = p.step(
          trainClassifier,
          {
            train: tuning.train,
            transform: features.transform,
            label: 'class',
            positiveClass: 'bad',
            architecture: params.architecture,
            epochs: params.epochs,
            batchSize: 1024,
            seed: params.seed,
            learningRate: trial.params.learningRate,
            l2: trial.params.l2,
          },
          { id: 'train' },
        );
        const scored = p.step(evaluateClassifier, { model: trained.model, dataset: tuning.test }, { id: 'validate' });
        return p.step(recordTrial, {
          experiment: search.experiment,
          objective: search.objective,
          trial,
          metrics: scored.metrics,
          model: trained.model,
        }).trial;
      },
      { id: 'trials', parallelism: 2 },
    );
    const tuned = p.step(selectTrial, { trials, objective: search.objective }, { id: 'select' });
    const model = tuned.best.model;

    const heldOut = p.step(evaluateClassifier, { model, dataset: split.test }, { id: 'evaluate' });
    const gate = p.step(checkGates, { metrics: heldOut.metrics, gates: [{ metric: 'roc_auc', min: params.minAuc }] });

    // The four-fifths rule: neither sex is flagged as a bad risk at under 80% of the other's rate.
    const bySex = p.step(
      evaluateFairness,
      {
        model,
        dataset: split.test,
        sensitive: {
          column: 'personal_status',
          match: [
            { pattern: '^female', group: 'female' },
            { pattern: '^male', group: 'male' },
          ],
        },
        gates: [{ metric: 'demographic_parity_ratio', min: 0.8 }],
      },
      { id: 'fairnessBySex' },
    );
    // Age fails the four-fifths rule on this data and we say so rather than hide it: the under-25s
    // are flagged about twice as often (demographic parity ratio 0.46 on the test split, shown at
    // approval and stored with the version). Part of that is real: 41% of under-25s defaulted
    // against 28% of the rest. What we hold the model to is equal error rates given the outcome,
    // which base rates do not excuse: equalized odds difference ≈ 0.25 measured, bar 0.3. The
    // under-25s are 29 test rows, so one row moves their rates by about 0.05.
    const byAge = p.step(
      evaluateFairness,
      {
        model,
        dataset: split.test,
        sensitive: { column: 'age', bins: [25] },
        gates: [{ metric: 'equalized_odds_difference', max: 0.3 }],
      },
      { id: 'fairnessByAge' },
    );
    const robustness = p.step(
      evaluateRobustness,
      { model, dataset: split.test, seed: params.seed, gates: [{ metric: 'noise_flip_rate', max: 0.05 }] },
      { id: 'robustness' },
    );
    // Retraining must not quietly lose to what is serving; a 0.01 AUC margin absorbs seed noise.
    const champion = p.step(
      validateChampion,
      { model, dataset: split.test, registeredName: 'credit-risk', margin: 0.01 },
      { id: 'champion' },
    );

    const fairness = {
      sexParityRatio: bySex.metrics.demographicParityRatio,
      ageParityRatio: byAge.metrics.demographicParityRatio,
      ageEqualizedOddsDifference: byAge.metrics.equalizedOddsDifference,
    };
    // Asked only once every bar above has held: a failed gate fails the run and cancels this.
    const approval = p.approval('release', {
      show: {
        rocAuc: heldOut.metrics.rocAuc,
        f1: heldOut.metrics.f1,
        heldOutRows: heldOut.metrics.rows,
        ...fairness,
        bestParams: tuned.best.params,
        validationRocAuc: tuned.best.metrics.rocAuc,
        champion: champion.message,
      },
      after: [gate.outcomes, bySex.outcomes, byAge.outcomes, robustness.outcomes],
      timeout: '24h',
    });
    // Registered only once approved: steps start as soon as their inputs exist, so a version
    // registered before the approval could come from a run whose AUC gate was about to fail.
    const release = {} as { version: Deep<number>; by: Deep<string> };
    p.when(approval.approved, () => {
      const registered = p.step(
        registerModel,
        {
          name: 'credit-risk',
          model,
          metrics: {
            rocAuc: heldOut.metrics.rocAuc,
            f1: heldOut.metrics.f1,
            accuracy: heldOut.metrics.accuracy,
            logLoss: heldOut.metrics.logLoss,
            noiseFlipRate: robustness.metrics.noiseFlipRate,
            ...fairness,
          },
          report: bySex.report,
          card: {
            intendedUse: 'Pre-screening consumer credit applications for a person to review; not for automatic refusal',
            owner: 'credit-risk team',
            limitations: [
              'Trained on 1,000 German applicants from the 1990s (Statlog)',
              'Sex is inferred from personal_status',
              'Gated on parity by sex and by age, not by other groups',
            ],
          },
        },
        { id: 'register' },
      );
      release.version = registered.version;
      // A canary behind `kiln serve`: 10% of live requests for the window, promoted by itself when
      // latency and the prediction distribution hold, rolled back when not. The alias moves as
      // the approver (the registry refuses anyone without the role); the first version, with
      // nothing serving yet, is promoted at once.
      release.by = p.step(
        deploy,
        {
          name: 'credit-risk',
          version: registered.version,
          alias: 'production',
          approval,
          strategy: {
            canary: {
              percent: params.canaryPercent,
              window: params.canaryWindow,
              minRequests: 50,
              gates: [
                { metric: 'p99LatencyMs', max: 100 },
                { metric: 'predictionPsi', max: 0.25 },
              ],
            },
          },
        },
        { id: 'deploy' },
      ).by;
    });
    return {
      model,
      metrics: heldOut.metrics,
      version: release.version,
      promotedBy: release.by,
      fairness,
      best: tuned.best.params,
    };
  },
);
