import { invalidData } from '../common/failures';
import { categoryOf } from '../common/model/transform';
import { implement } from '../library';
import { reportRef } from '../refs';
import { loadModel } from '../common/model/model';
import { binaryIntervals, multiclassIntervals, type BootstrapIntervals } from '../common/metrics/bootstrap';
import { calibration } from '../common/metrics/calibration';
import {
  binaryMetrics,
  CALIBRATION_BINS,
  DEFAULT_THRESHOLD,
  LOG_LOSS_EPS,
  multiclassMetrics,
  rocCurve,
  type ClassificationMetrics,
  type ClassMetrics,
} from '../common/metrics/classification';
import { scoreHeldOut } from './scored-held-out';
import { evaluateClassifier } from './steps';

export { classificationMetrics, evaluateClassifier } from './steps';

export interface RocReport {
  /** The class scored as positive: for multiclass, one against the rest. */
  class: string;
  auc: number;
  fpr: number[];
  tpr: number[];
  /** Descending; the first, null, stands for +∞ (nothing predicted positive). */
  thresholds: Array<number | null>;
}

/** A reliability curve: for each equal-width bin of predicted probability, how often the class occurred. */
export interface CalibrationCurveReport {
  /** The class whose probability is binned: for multiclass, one against the rest. */
  class: string;
  /** Expected calibration error: the row-weighted mean gap between meanPredicted and fractionPositive. */
  ece: number;
  /** Maximum calibration error: the largest gap over non-empty bins. */
  mce: number;
  /** Every bin, empty ones included; an empty bin's mean and fraction are null. */
  bins: Array<{
    lower: number;
    upper: number;
    count: number;
    meanPredicted: number | null;
    fractionPositive: number | null;
  }>;
}

/** The report artifact of `evaluate.classifier`. */
export interface EvaluationReport {
  kind: 'kiln.evaluation';
  /** 2 added the probability metrics and `calibration`. */
  version: 2;
  model: { sha256: string; task: string; architecture: string; label: string; classes: string[]; backend: string };
  dataset: { sha256: string; rows: number };
  /** Binary only: a row is predicted positive when its score is at or above this. Multiclass predicts the most probable class. */
  threshold: number | null;
  positiveClass: string | null;
  metrics: ClassificationMetrics;
  /** counts[true class][predicted class], in the order of `classes`. */
  confusionMatrix: { classes: string[]; counts: number[][] };
  roc: RocReport[];
  /** Reliability curves, one per entry of `roc` and for the same classes. */
  calibration: CalibrationCurveReport[];
  perClass?: Array<{ class: string } & ClassMetrics>;
  /** 95% percentile-bootstrap intervals of `metrics` over the evaluation rows (seeded: the same rows give the same intervals). */
  confidence?: BootstrapIntervals;
}

const rocReport = (cls: string, auc: number, yTrue: number[], yScore: number[]): RocReport => {
  const curve = rocCurve(yTrue, yScore);
  return {
    class: cls,
    auc,
    fpr: curve.fpr,
    tpr: curve.tpr,
    thresholds: curve.thresholds.map((t) => (Number.isFinite(t) ? t : null)),
  };
};

const orNull = (x: number) => (Number.isNaN(x) ? null : x);

const calibrationReport = (cls: string, yTrue: number[], yProb: number[]): CalibrationCurveReport => {
  const { ece, mce, bins } = calibration(yTrue, yProb, { bins: CALIBRATION_BINS });
  return {
    class: cls,
    ece,
    mce,
    bins: bins.map((b) => ({
      lower: b.lower,
      upper: b.upper,
      count: b.count,
      meanPredicted: orNull(b.meanPredicted),
      fractionPositive: orNull(b.fractionPositive),
    })),
  };
};

export const evaluateClassifierImpl = implement(evaluateClassifier, async (input, ctx) => {
  const { dataset } = input;
  const model = await loadModel(ctx.artifacts, input.model.uri);
  const { label, classes } = model;
  if (!dataset.columns.some((c) => c.name === label)) {
    throw invalidData(
      `the evaluation data has no label column '${label}'; columns are ${dataset.columns.map((c) => c.name).join(', ')}`,
      { label },
    );
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const width = model.task === 'binary' ? 2 : classes.length;
  const yTrue: number[] = [];
  const parts: Float64Array[] = [];
  const check = (p: Float64Array, first: number) => {
    for (let at = 0; at < p.length; at++) {
      const v = p[at]!;
      if (!(v >= 0 && v <= 1)) {
        const n = first + Math.floor(at / width) + 1;
        throw invalidData(
          `row ${n}: the model gives class '${classes[at % width]}' the probability ${v}, not one in [0, 1]; the model is broken (diverged training?) and cannot be evaluated`,
          { row: n },
        );
      }
    }
    parts.push(p);
  };
  await scoreHeldOut(
    ctx,
    model,
    dataset,
    (value, n) => {
      if (value === null) return invalidData(`row ${n} has no value for the label '${label}'`, { label, row: n });
      const k = index.get(categoryOf(value));
      if (k === undefined) {
        return invalidData(
          `row ${n} has the class '${categoryOf(value)}', which the model was not trained on (classes: ${classes.join(', ')})`,
          { label, row: n, class: categoryOf(value) },
        );
      }
      yTrue.push(k);
      return undefined;
    },
    check,
  );
  if (yTrue.length === 0) throw invalidData('the evaluation data has no rows', {});
  const probs = new Float64Array(yTrue.length * width);
  let at = 0;
  for (const p of parts) {
    probs.set(p, at);
    at += p.length;
  }
  const seen = new Set(yTrue);
  const absent = classes.filter((_, k) => !seen.has(k));
  if (absent.length > 0) {
    throw invalidData(
      `the evaluation data has no rows of class ${absent.map((c) => `'${c}'`).join(', ')}, so ROC AUC is undefined; use a larger or stratified test set`,
      { absent },
    );
  }

  let metrics: ClassificationMetrics;
  let report: EvaluationReport;
  const header = {
    kind: 'kiln.evaluation' as const,
    version: 2 as const,
    model: {
      sha256: input.model.sha256,
      task: model.task,
      architecture: model.architecture,
      label,
      classes,
      backend: model.backend,
    },
    dataset: { sha256: dataset.sha256, rows: yTrue.length },
  };
  if (model.task === 'binary') {
    const scores = Array.from(yTrue, (_, i) => probs[2 * i + 1]!);
    const { confusion: c, ...m } = binaryMetrics(yTrue, scores, DEFAULT_THRESHOLD);
    metrics = m;
    report = {
      ...header,
      threshold: DEFAULT_THRESHOLD,
      positiveClass: classes[1]!,
      metrics,
      confusionMatrix: {
        classes,
        counts: [
          [c.tn, c.fp],
          [c.fn, c.tp],
        ],
      },
      roc: [rocReport(classes[1]!, m.rocAuc, yTrue, scores)],
      calibration: [calibrationReport(classes[1]!, yTrue, scores)],
      confidence: binaryIntervals(yTrue, scores, DEFAULT_THRESHOLD, LOG_LOSS_EPS),
    };
  } else {
    const proba = Array.from(yTrue, (_, i) => Array.from(probs.subarray(i * width, (i + 1) * width)));
    const { confusionMatrix, perClass, ...m } = multiclassMetrics(yTrue, proba);
    metrics = m;
    report = {
      ...header,
      threshold: null,
      positiveClass: null,
      metrics,
      confusionMatrix: { classes, counts: confusionMatrix },
      roc: classes.map((cls, k) =>
        rocReport(
          cls,
          perClass[k]!.rocAuc,
          yTrue.map((y) => (y === k ? 1 : 0)),
          proba.map((p) => p[k]!),
        ),
      ),
      calibration: classes.map((cls, k) =>
        calibrationReport(
          cls,
          yTrue.map((y) => (y === k ? 1 : 0)),
          proba.map((p) => p[k]!),
        ),
      ),
      perClass: perClass.map((p, k) => ({ class: classes[k]!, ...p })),
      confidence: multiclassIntervals(yTrue, proba, LOG_LOSS_EPS),
    };
  }
  const stored = await ctx.artifacts.putJson(report);
  ctx.log('evaluated', { ...metrics, report: stored.sha256 });
  return { metrics, report: reportRef.parse({ kind: 'report', ...stored }) };
});
