/** Metric inputs that cannot give a defined answer: wrong lengths, labels outside {0, 1}, NaN scores. */
export class MetricInputError extends Error {
  constructor(
    readonly metric: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${metric}: ${message}`, options);
    this.name = 'MetricInputError';
  }
}

export type Numbers = ArrayLike<number>;

export function checkLengths(
  metric: string,
  a: { length: number },
  b: { length: number },
  names = ['yTrue', 'yPred'],
): void {
  if (a.length !== b.length) {
    throw new MetricInputError(
      metric,
      `${names[0]} has ${a.length} values but ${names[1]} has ${b.length}; they must be the same rows`,
    );
  }
  if (a.length === 0) throw new MetricInputError(metric, 'no rows: the metric is undefined on an empty set');
}

export function checkBinary(metric: string, values: Numbers, name = 'yTrue'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1) {
      throw new MetricInputError(metric, `${name}[${i}] is ${String(v)}; binary labels must be 0 or 1`);
    }
  }
}

export function checkFinite(metric: string, values: Numbers, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new MetricInputError(metric, `${name}[${i}] is ${String(values[i])}; every value must be a finite number`);
    }
  }
}

export function checkProbabilities(metric: string, values: Numbers, name = 'yProb'): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new MetricInputError(metric, `${name}[${i}] is ${String(v)}; probabilities must lie in [0, 1]`);
    }
  }
}
