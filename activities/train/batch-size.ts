/** Below this many training rows the default batch is Keras's 32. */
const SMALL_ROWS = 10_000;
const LARGEST_DEFAULT_BATCH = 2048;

/**
 * Rows per gradient step when the step does not say: 32 below 10,000 rows; above, about 1/128 of
 * the rows rounded down to a power of two (64 at 10,000, 512 at 100,000), at most 2048 (from
 * 262,144 rows). Each batch costs TensorFlow.js a fixed overhead of several ops, so on big data
 * larger batches train many more rows a second, while ~128 steps an epoch keep Adam moving.
 */
export function defaultBatchSize(rows: number): number {
  if (rows < SMALL_ROWS) return 32;
  return Math.min(LARGEST_DEFAULT_BATCH, Math.max(32, 2 ** Math.floor(Math.log2(rows / 128))));
}
