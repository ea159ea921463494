/** Drift inputs that give no defined answer: an empty window, a missing column, no values left, the wrong type. */
export class DriftInputError extends Error {
  constructor(
    readonly feature: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`feature '${feature}': ${message}`, options);
    this.name = 'DriftInputError';
  }
}
