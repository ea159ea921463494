import { mulberry32 } from '../common/random';

// Pure generation of trials from a search space; the steps in search.ts wrap these.

export type ParamValue = number | string | boolean;
/** Grid: every value to try, per parameter. */
export type GridSpace = Record<string, readonly ParamValue[]>;
/** A number drawn uniformly from [min, max], or log-uniformly with `log`; whole numbers with `integer`. */
export interface Range {
  min: number;
  max: number;
  log?: boolean;
  integer?: boolean;
}
/** One of the given values, each equally likely. */
export interface Choice {
  values: readonly ParamValue[];
}
export type RandomSpace = Record<string, Range | Choice>;

export interface Trial {
  index: number;
  params: Record<string, ParamValue>;
}

/** A grid past this many trials is a mistake in the space, not a search to run. */
export const MAX_TRIALS = 1000;

/** The number of trials a grid expands to. */
export const gridSize = (space: GridSpace): number => Object.values(space).reduce((n, values) => n * values.length, 1);

/** The cartesian product of a grid, the first parameter varying slowest (as nested loops in declared order). */
export function gridTrials(space: GridSpace): Trial[] {
  let combinations: Record<string, ParamValue>[] = [{}];
  for (const [name, values] of Object.entries(space)) {
    combinations = combinations.flatMap((params) => values.map((value) => ({ ...params, [name]: value })));
  }
  return combinations.map((params, index) => ({ index, params }));
}

const isChoice = (dimension: Range | Choice): dimension is Choice => 'values' in dimension;

function draw(dimension: Range | Choice, random: () => number): ParamValue {
  const u = random();
  if (isChoice(dimension)) return dimension.values[Math.floor(u * dimension.values.length)]!;
  const { log = false, integer = false } = dimension;
  const min = integer ? Math.ceil(dimension.min) : dimension.min;
  // Whole numbers: draw from [min, max + 1) and floor, so that max is as likely as any other value.
  const max = integer ? Math.floor(dimension.max) + 1 : dimension.max;
  const value = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  // exp(log(x)) can land an ulp outside the range.
  const clamped = Math.min(Math.max(value, dimension.min), dimension.max);
  return integer ? Math.min(Math.floor(clamped), Math.floor(dimension.max)) : clamped;
}

/**
 * `count` samples of a random space, reproducible from `seed`: one PRNG stream, drawn trial by
 * trial and, within a trial, parameter by parameter in declared order.
 */
export function randomTrials(space: RandomSpace, count: number, seed: number): Trial[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, index) => ({
    index,
    params: Object.fromEntries(Object.entries(space).map(([name, dimension]) => [name, draw(dimension, random)])),
  }));
}
