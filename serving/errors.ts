/** A request the server refuses: the HTTP status, a code a client can branch on, and where in the body. */
export class RequestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly where: { row?: number; field?: string } = {},
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** A served model that could not be loaded: names the model, version and what went wrong. */
export class ModelLoadError extends Error {
  constructor(
    readonly model: string,
    readonly version: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`model '${model}' version ${version}: ${message}`, options);
    this.name = 'ModelLoadError';
  }
}
