/** A failure as Kiln reports it everywhere: a run's error, a node's error, a recorded step. */
export interface Failure {
  type: string;
  message: string;
}

/**
 * Every failure type Kiln raises, with what it means. Non-retryable ones fail a step at once;
 * the retryable ones are retried by the step's policy first.
 */
export const failureCatalogue = {
  InvalidPlan: { retryable: false, meaning: 'the plan is malformed, or names a step or wiring the worker refuses' },
  InvalidParams: { retryable: false, meaning: 'a run parameter or run option is missing or of the wrong type' },
  InvalidInput: { retryable: false, meaning: "a step's input does not match its schema" },
  InvalidOutput: { retryable: false, meaning: 'a step returned output that does not match its schema' },
  InvalidData: { retryable: false, meaning: 'the data is malformed: a bad file, a missing column, a bad label' },
  NonFiniteData: {
    retryable: false,
    meaning:
      'a number is infinite or NaN, or overflows, where a finite one is needed: in a file, a fitted statistic, a feature',
  },
  TrainingDiverged: {
    retryable: false,
    meaning: 'the training loss became NaN or infinite; lower the learning rate or rescale the features',
  },
  InvalidQuery: { retryable: false, meaning: 'a source query is rejected by its database' },
  InvalidDecision: { retryable: false, meaning: 'an approval decision names no waiting gate or no approver' },
  DataQualityFailed: { retryable: false, meaning: 'a declared data-quality check failed' },
  GateFailed: { retryable: false, meaning: 'a metric, fairness or robustness gate failed' },
  GateInvalid: { retryable: false, meaning: 'a gate is declared wrongly' },
  GateMetricMissing: { retryable: false, meaning: 'a gate names a metric the report does not have' },
  ApprovalRejected: { retryable: false, meaning: 'a person rejected an approval gate' },
  ApprovalTimedOut: { retryable: false, meaning: 'an approval gate got no decision in time' },
  RolloutGateFailed: {
    retryable: false,
    meaning: 'a canary or shadow candidate failed a rollout gate and was rolled back',
  },
  RolloutAborted: { retryable: false, meaning: 'a person aborted a rollout; the candidate was rolled back' },
  AccessDenied: { retryable: false, meaning: 'the principal lacks the role the action needs' },
  DatabaseAccessDenied: { retryable: false, meaning: 'a source database refused the credentials' },
  DuplicateRunId: { retryable: false, meaning: 'the run id already names another run' },
  NotFound: { retryable: false, meaning: 'a model, version or run named by a step does not exist' },
  RegistryConflict: { retryable: false, meaning: 'the registry already holds something else under that name' },
  StoreRequired: { retryable: false, meaning: 'the step needs a store and the worker has none' },
  DatabaseUnavailable: { retryable: true, meaning: 'a source database could not be reached' },
  Timeout: { retryable: true, meaning: "a step's attempts ran out of time (start-to-close, heartbeat or schedule)" },
  Cancelled: { retryable: false, meaning: 'the run or the step was cancelled' },
} as const satisfies Record<string, { retryable: boolean; meaning: string }>;

export type FailureType = keyof typeof failureCatalogue;

/** Failure types by name, so a typo fails `tsc`: `ApplicationFailure.nonRetryable(msg, FailureTypes.GateFailed)`. */
export const FailureTypes = Object.fromEntries(Object.keys(failureCatalogue).map((k) => [k, k])) as {
  readonly [K in FailureType]: K;
};

/**
 * The failure types no retry can fix, for a step's `retry.nonRetryableErrorTypes`.
 * @example p.step(trainClassifier, inputs, { retry: { nonRetryableErrorTypes: [...nonRetryableFailureTypes] } });
 */
export const nonRetryableFailureTypes = (Object.keys(failureCatalogue) as FailureType[]).filter(
  (type) => !failureCatalogue[type].retryable,
);
