/** Why `kiln export edge` wrote no bundle: names the model or the path, and what would fix it. */
export class EdgeExportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`export edge: ${message}`, options);
    this.name = 'EdgeExportError';
  }
}
