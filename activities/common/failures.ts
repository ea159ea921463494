import { FailureTypes } from '../../dsl/failures';
import { ApplicationFailure } from '@temporalio/common';
import type { StepContext } from '../library';

/** The failure type for input a retry cannot fix: malformed files, wrong columns, bad labels. */
export const INVALID_DATA = FailureTypes.InvalidData;

/** A non-retryable failure that says what is wrong with the data and where. */
export const invalidData = (message: string, details: Record<string, unknown> = {}): ApplicationFailure =>
  ApplicationFailure.nonRetryable(message, INVALID_DATA, details);

/** The failure type when a step that needs the store runs on a worker without one. */
export const STORE_REQUIRED = FailureTypes.StoreRequired;

/** The worker's store, or a non-retryable failure that says how to give it one. */
export function requireStore(ctx: StepContext, step: string): NonNullable<StepContext['store']> {
  if (!ctx.store) {
    throw ApplicationFailure.nonRetryable(
      `${step}: registry steps need a store; start the worker with one`,
      STORE_REQUIRED,
      { step },
    );
  }
  return ctx.store;
}
