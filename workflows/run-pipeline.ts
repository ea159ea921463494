import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { PlanError } from '../dsl/errors';
import { FailureTypes } from '../dsl/failures';
import { resolveParams } from '../dsl/params';
import { validatePlan } from '../dsl/validate';
import { Interpreter, NodeFailed, failureOf } from './interpreter';
import type {
  BeginRequest,
  Decision,
  NodeSnapshot,
  RunBegun,
  RunEvent,
  RunInput,
  RunOptions,
  RunResult,
  RunSnapshot,
  StepOutcomeEvent,
} from './protocol';
import type { ValueStore } from './map-results';

/** Every node's state, attempts, timings and outputs. */
export const statusQuery = wf.defineQuery<RunSnapshot>('kiln.status');
/** Approves or rejects a waiting gate; refused unless the gate is waiting and the approver is named. */
export const approveUpdate = wf.defineUpdate<NodeSnapshot, [Decision]>('kiln.approve');
/** The same decision as a signal, for clients without Updates; an invalid one is logged and dropped. */
export const decideSignal = wf.defineSignal<[Decision]>('kiln.decide');

const {
  'kiln.catalog': catalog,
  'kiln.begin': begin,
  'kiln.recordRun': recordRun,
  'kiln.recordStep': recordStep,
  'kiln.decisionOnRecord': decisionOnRecord,
  'kiln.putValues': putValues,
  'kiln.joinValues': joinValues,
} = wf.proxyLocalActivities<{
  /** Runs started before `kiln.begin` existed replay with this. */
  'kiln.catalog': () => Promise<string[]>;
  'kiln.begin': (start: BeginRequest) => Promise<RunBegun>;
  'kiln.recordRun': (event: RunEvent) => Promise<void>;
  'kiln.recordStep': (event: StepOutcomeEvent) => Promise<void>;
  'kiln.decisionOnRecord': (workflowId: string, decision: Decision) => Promise<boolean>;
  'kiln.putValues': ValueStore['put'];
  'kiln.joinValues': ValueStore['join'];
}>({ startToCloseTimeout: '10s' });

/** Records how the run ended, even while the run is being cancelled. */
function recordFinish(workflowId: string, error?: unknown) {
  const event: RunEvent =
    error === undefined
      ? { event: 'finish', workflowId, status: 'succeeded' }
      : {
          event: 'finish',
          workflowId,
          status: wf.isCancellation(error) ? 'cancelled' : 'failed',
          error: failureOf(error),
        };
  return wf.CancellationScope.nonCancellable(() => recordRun(event));
}

/** Plan and parameter problems fail the run at once, naming node and field; retrying cannot fix them. */
function invalid(error: unknown): never {
  if (error instanceof PlanError) {
    throw ApplicationFailure.nonRetryable(error.message, FailureTypes.InvalidPlan, {
      node: error.node,
      field: error.field,
    });
  }
  throw error;
}

/** Run options come from a client, not the compiler: a parallelism of 0 would wait forever. */
function checkOptions(options: RunOptions): void {
  const { parallelism } = options;
  if (parallelism !== undefined && !(Number.isInteger(parallelism) && parallelism > 0)) {
    throw ApplicationFailure.nonRetryable(
      `run option parallelism must be a whole number of at least 1, not ${JSON.stringify(parallelism)}`,
      FailureTypes.InvalidParams,
    );
  }
}

/** The one pipeline workflow: interprets a compiled plan. */
export async function runPipeline(input: RunInput): Promise<RunResult> {
  const { plan, options = {} } = input;
  // Assigned once the plan is validated; the handlers below read it when they are called.
  // eslint-disable-next-line prefer-const
  let run: Interpreter | undefined;
  // Handlers first, so that a status query during validation gets an answer rather than an error.
  wf.setHandler(
    statusQuery,
    () =>
      run?.snapshot() ?? {
        pipeline: plan.name,
        planHash: plan.hash,
        status: 'running',
        startedAt: input.resume?.startedAt ?? new Date().toISOString(),
        generation: input.resume?.generation ?? 0,
        nodes: [],
      },
  );
  wf.setHandler(approveUpdate, (d) => run!.decide(d), {
    validator: (d) => {
      if (!run)
        throw ApplicationFailure.nonRetryable(
          'the run is still starting; no gate waits yet',
          FailureTypes.InvalidDecision,
        );
      run.checkDecision(d);
    },
  });
  wf.setHandler(decideSignal, (d) => {
    try {
      if (!run) throw new Error('the run is still starting');
      run.checkDecision(d);
      run.decide(d);
    } catch (error) {
      wf.log.warn('ignored an invalid decision signal', { error: (error as Error).message });
    }
  });

  // Patches, asked before any await: a patch marker must keep its place relative to the local
  // activities' markers. Each marker costs the run two history events (the marker and a search
  // attribute upsert), so runs started since kiln.lean-steps record only it: it implies the others.
  // Runs started before it made three more promises a step (async node and step functions).
  const leanSteps = wf.patched('kiln.lean-steps');
  // Runs started before run records existed replay without them.
  const current = leanSteps || wf.patched('kiln.begin');
  const syncAdmission = leanSteps || wf.patched('kiln.sync-admission');
  // Runs started before it left step failures to the activity and the run's end to the store.
  const stepOutcomes = leanSteps || wf.patched('kiln.step-outcome');
  // Runs before it took a decision sent to Temporal without asking the store for it.
  const decisionsOnRecord = leanSteps || wf.patched('kiln.decision-on-record');
  // `resume` is what continue-as-new carries; on a fresh start it would skip the duplicate-run
  // check and replay a closed run's recorded approvals.
  if (input.resume && !wf.workflowInfo().continuedFromExecutionRunId && decisionsOnRecord) {
    throw ApplicationFailure.nonRetryable(
      'a run cannot start with `resume`: only continue-as-new carries it',
      FailureTypes.InvalidParams,
    );
  }
  // Runs started before it ran light steps as regular activities.
  const lightSteps = leanSteps || wf.patched('kiln.light-steps');
  // Runs started before it ran a map's items all at once and kept every result in history.
  const mapLanes = leanSteps || wf.patched('kiln.map-lanes');
  const { workflowId, originalExecutionRunId } = wf.workflowInfo();
  let params: Record<string, unknown> = {};
  let recorded = false;
  try {
    validatePlan(plan);
    checkOptions(options);
    params = resolveParams(plan, input.params);
    // One round trip: the worker answers which steps it has and, when it has a store and the
    // plan names only known steps, records the run's start.
    const begun = current
      ? await begin({
          workflowId,
          temporalRunId: originalExecutionRunId,
          plan,
          params,
          resumed: input.resume !== undefined,
          ...(input.schedule ? { schedule: input.schedule } : {}),
        })
      : { steps: await catalog(), recording: false };
    recorded = begun.recording;
    const known = new Set(begun.steps);
    validatePlan(plan, { has: (name) => known.has(name) });
  } catch (error) {
    invalid(error);
  }
  run = new Interpreter(
    plan,
    params,
    options,
    input.resume,
    { syncAdmission, lightSteps, mapLanes, leanSteps },
    recorded && stepOutcomes ? recordStep : undefined,
    recorded && decisionsOnRecord
      ? (d) => wf.CancellationScope.nonCancellable(() => decisionOnRecord(workflowId, d))
      : undefined,
    mapLanes ? { put: putValues, join: joinValues } : undefined,
  );

  let outcome;
  try {
    outcome = await run.execute();
  } catch (error) {
    if (recorded) await recordFinish(workflowId, error);
    if (error instanceof NodeFailed) {
      throw ApplicationFailure.create({
        message: error.message,
        type: error.failure.type,
        nonRetryable: true,
        details: [{ node: error.node }],
        cause: error.cause as Error,
      });
    }
    throw error;
  }
  await wf.condition(wf.allHandlersFinished);
  if (recorded && outcome.done) await recordFinish(workflowId);
  if (!outcome.done) await wf.continueAsNew<typeof runPipeline>({ ...input, resume: await run.carry() });
  const { nodes } = run.snapshot();
  return { pipeline: plan.name, planHash: plan.hash, output: outcome.done ? outcome.output : undefined, nodes };
}
