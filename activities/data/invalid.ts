import { ApplicationFailure } from '@temporalio/common';

/** The failure type for input a retry cannot fix: malformed files, wrong columns, bad labels. */
export const INVALID_DATA = 'InvalidData';

/** A non-retryable failure that says what is wrong with the data and where. */
export const invalidData = (message: string, details: Record<string, unknown> = {}): ApplicationFailure =>
  ApplicationFailure.nonRetryable(message, INVALID_DATA, details);
