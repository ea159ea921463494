const STEP = 0x6d2b79f5;

/** mulberry32's output for a state: 32 random bits. */
function mix(state: number) {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/**
 * mulberry32: a small, fast, seeded PRNG with 2^32 states. Every random choice a step makes
 * (splits, shuffles) draws from one of these so that a seed reproduces a run exactly.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + STEP) >>> 0;
    return mix(state) / 4294967296;
  };
}

/**
 * Draws `draws` indices below `counts.length`, as `Math.floor(random() * counts.length)` with
 * `random = mulberry32(state)` would, and counts how often each is drawn; answers the state to
 * continue the stream from. For loops of millions of draws: a call through the closure costs as
 * much as the draw itself. Counts are bytes, so that a million of them stay in the CPU's cache
 * (twice as fast as 32-bit counts at a million rows); an index drawn a 256th time is a RangeError.
 * A bootstrap resample (as many draws as rows) meets it with a probability below 1e-500.
 */
export function countDraws(counts: Uint8Array, draws: number, state: number): number {
  const n = counts.length;
  let s = state >>> 0;
  for (let i = 0; i < draws; i++) {
    s = (s + STEP) >>> 0;
    const index = Math.floor((mix(s) / 4294967296) * n);
    const count = counts[index]! + 1;
    if (count > 255) throw new RangeError(`index ${index} was drawn more than 255 times; a count holds at most 255`);
    counts[index] = count;
  }
  return s;
}

/** Shuffles in place (Fisher–Yates) with the given source of randomness. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i]!;
    items[i] = items[j]!;
    items[j] = a;
  }
  return items;
}
