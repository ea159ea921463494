/** A pipeline or plan that cannot run, with the node and field at fault. */
export class PlanError extends Error {
  constructor(
    readonly node: string,
    readonly field: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${node ? `step '${node}'` : 'plan'}${field ? `, field '${field}'` : ''}: ${message}`, options);
    this.name = 'PlanError';
  }
}
