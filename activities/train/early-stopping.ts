import { z } from 'zod';
import { invalidData } from '../common/failures';
import { mulberry32, shuffleInPlace } from '../common/random';

// Early stopping as scikit-learn's MLPClassifier does it (early_stopping, validation_fraction,
// n_iter_no_change, tol), on the validation loss as Keras's EarlyStopping(restore_best_weights).

/** From this many training rows up, early stopping is on unless the step says `earlyStopping: false`. */
export const EARLY_STOPPING_ROWS = 10_000;

export const EARLY_STOPPING_DEFAULTS = { validationFraction: 0.1, patience: 10, minDelta: 1e-4 } as const;

export const earlyStoppingOption = z
  .union([
    z.boolean(),
    z.object({
      validationFraction: z
        .number()
        .gt(0)
        .lt(1)
        .optional()
        .describe('share of the training rows held out; default 0.1'),
      patience: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('epochs in a row without improvement before stopping; default 10'),
      minDelta: z
        .number()
        .nonnegative()
        .optional()
        .describe('how much lower than the best a validation loss must be to count as improving; default 1e-4'),
    }),
  ])
  .optional();

export type EarlyStoppingOption = z.infer<typeof earlyStoppingOption>;

export interface EarlyStopping {
  validationFraction: number;
  patience: number;
  minDelta: number;
}

/**
 * The early stopping a fit uses: the option's, with defaults filled in; when the option is not
 * given, on from EARLY_STOPPING_ROWS rows and off below. Fails naming an option out of range.
 */
export function resolveEarlyStopping(option: EarlyStoppingOption, rows: number): EarlyStopping | undefined {
  if (option === false) return undefined;
  if (option === undefined && rows < EARLY_STOPPING_ROWS) return undefined;
  const given = typeof option === 'object' ? option : {};
  const resolved = { ...EARLY_STOPPING_DEFAULTS, ...stripUndefined(given) };
  const { validationFraction, patience, minDelta } = resolved;
  if (!(typeof validationFraction === 'number' && validationFraction > 0 && validationFraction < 1))
    throw invalidData(
      `earlyStopping.validationFraction is ${validationFraction}; give a share of the training rows between 0 and 1 (exclusive), such as 0.1`,
      { option: 'earlyStopping.validationFraction', value: validationFraction },
    );
  if (!(Number.isInteger(patience) && patience >= 1))
    throw invalidData(`earlyStopping.patience is ${patience}; give a whole number of epochs, 1 or more, such as 10`, {
      option: 'earlyStopping.patience',
      value: patience,
    });
  if (!(typeof minDelta === 'number' && minDelta >= 0 && Number.isFinite(minDelta)))
    throw invalidData(`earlyStopping.minDelta is ${minDelta}; give a finite loss difference, 0 or more, such as 1e-4`, {
      option: 'earlyStopping.minDelta',
      value: minDelta,
    });
  return resolved;
}

const stripUndefined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The rows held out for validation, ascending: `fraction` of each stratum (of each class, for a
 * classifier, as scikit-learn stratifies), drawn by a generator seeded from `seed`. The same
 * arguments always give the same rows.
 */
export function validationRows(rows: number, fraction: number, seed: number, strata?: ArrayLike<number>): Uint32Array {
  // Its own stream, so that the held-out rows do not follow the batch order drawn from `seed`.
  const random = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < rows; i++) {
    const key = strata?.[i] ?? 0;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(i);
  }
  const held: number[] = [];
  for (const key of [...groups.keys()].sort((a, b) => a - b)) {
    const group = shuffleInPlace(groups.get(key)!, random);
    held.push(...group.slice(0, Math.round(group.length * fraction)));
  }
  if (held.length === 0 || held.length === rows)
    throw invalidData(
      `earlyStopping.validationFraction ${fraction} of ${rows} rows leaves ${held.length === 0 ? 'no validation' : 'no training'} rows; give more rows, another fraction, or earlyStopping: false`,
      { option: 'earlyStopping.validationFraction', value: fraction, rows },
    );
  return Uint32Array.from(held).sort();
}

/**
 * Watches the validation loss epoch by epoch. An epoch improves when its loss is more than
 * `minDelta` below the best so far; `patience` epochs in a row that do not improve stop the fit.
 * The best epoch is the one of lowest loss, whose weights the fit restores.
 */
export class Patience {
  best = Infinity;
  bestEpoch = 0;
  private waited = 0;

  constructor(private readonly settings: Pick<EarlyStopping, 'patience' | 'minDelta'>) {}

  /** Records an epoch's validation loss; `isBest` says to keep its weights, `stop` to end the fit. */
  observe(epoch: number, loss: number): { isBest: boolean; stop: boolean } {
    this.waited = loss < this.best - this.settings.minDelta ? 0 : this.waited + 1;
    const isBest = loss < this.best;
    if (isBest) {
      this.best = loss;
      this.bestEpoch = epoch;
    }
    return { isBest, stop: this.waited >= this.settings.patience };
  }
}
