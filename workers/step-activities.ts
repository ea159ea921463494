import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { AUTO_VERSION, FailureTypes, allNodes, planHash } from '../dsl';
import { planWithoutHash } from '../dsl/plan';
import { LiveSteps } from './live-steps';
import { checkApprovalWiring } from './approval-wiring';
import { loadValueRefs } from './map-values';
import { stepStore } from './step-store';
import { cacheKey } from '../store/cache-key';
import { gitCodeVersion, SYSTEM, type Store } from '../store';
import type { ArtifactStore } from '../activities/artifacts/store';
import type { SourceRef, StepContext, StepImpl } from '../activities/library';
import type {
  Decision,
  BeginRequest,
  RunBegun,
  RunEvent,
  StepEnvelope,
  StepOutcomeEvent,
  StepRequest,
} from '../workflows/protocol';

/** Where the worker records steps and finds cached results; workers/store-recorder.ts implements it over the store. */
export interface StepRecorder {
  /**
   * On a retry, this node's own result from an attempt whose completion was lost; or, when the
   * node's cache is on, a recorded result for this cache key, recorded as this node's cache hit
   * (`cached` names its source); undefined when there is none.
   */
  reuse(
    request: StepRequest,
    key: string,
    attempt: number,
  ): Promise<{ output: Record<string, unknown>; cached?: NonNullable<StepEnvelope['cached']> } | undefined>;
  /** Queues the attempt's start; the promise settles when it is committed, which the step need not wait for. */
  started(request: StepRequest, key: string, attempt: number): Promise<void>;
  /**
   * Commits the attempt's start now, if it still waits for its finish: before a failure returns
   * (the workflow then records the step's end), and before the step reads the store.
   */
  settle(request: StepRequest): Promise<void>;
  /** `sources`: what the step read from outside the artifact store (ctx.readFrom). */
  succeeded(request: StepRequest, key: string, envelope: StepEnvelope, sources: SourceRef[]): Promise<void>;
}

const invalid = (request: StepRequest, what: 'input' | 'output', error: z.ZodError) =>
  ApplicationFailure.nonRetryable(
    `step '${request.context.node}' (${request.context.step.name}): invalid ${what}: ${z.prettifyError(error).replace(/\n/g, '; ')}`,
    what === 'input' ? FailureTypes.InvalidInput : FailureTypes.InvalidOutput,
  );

/**
 * The version a step's results are cached and recorded under: its declared version, or for
 * `version: 'auto'` the hash of the code this worker runs for it.
 */
function resolvedStep(step: StepRequest['context']['step'], impl: StepImpl): StepRequest['context']['step'] {
  if (step.version !== AUTO_VERSION) return step;
  const code = impl.codeHash ?? createHash('sha256').update(impl.run.toString()).digest('hex');
  return { ...step, version: `auto:${code.slice(0, 16)}` };
}

/**
 * Turns step implementations into Temporal activities: checks input and output against the
 * step's schemas (data crossing a process boundary), reuses cached results, records each
 * attempt, and reports the attempt that succeeded. Given `LiveSteps`, each call runs the
 * implementation of the run's generation, and a step added by a reload is found by name too.
 */
export function stepActivities(
  steps: readonly StepImpl[] | LiveSteps,
  deps: { artifacts: ArtifactStore; recorder?: StepRecorder; store?: Store },
) {
  const live = steps instanceof LiveSteps ? steps : new LiveSteps(steps);
  const runStep = async (request: StepRequest): Promise<StepEnvelope> => {
    const context = Context.current();
    // The workflow calls a step's activity by the step's name, which the request carries too.
    const impl = live.lookup(request.context.step.name, request.context.workflowId);
    if (!impl)
      throw ApplicationFailure.nonRetryable(
        `step '${request.context.node}' runs '${request.context.step.name}', which this worker (task queue '${context.info.taskQueue}') does not have`,
        FailureTypes.InvalidPlan,
      );
    const attempt = context.info.attempt;
    // A wide map's joined result arrives as a reference; the step gets the list.
    const parsed = impl.def.input.safeParse(await loadValueRefs(request.input, deps.artifacts));
    if (!parsed.success) throw invalid(request, 'input', parsed.error);
    request = { ...request, context: { ...request.context, step: resolvedStep(request.context.step, impl) } };
    const { recorder } = deps;
    // The key is read only to reuse a result: from the cache, or from this node's own earlier attempt.
    const key = recorder && (request.context.cache || attempt > 1) ? cacheKey(request.context.step, request.input) : '';
    const hit = await recorder?.reuse(request, key, attempt);
    if (hit) return { ...hit, attempt };
    // Not waited for: a quick step's start is written with its finish, as one row.
    void recorder?.started(request, key, attempt);
    const sources: SourceRef[] = [];
    const ctx: StepContext = {
      artifacts: deps.artifacts,
      // A light step runs as a local activity, which the server never sees: Core would warn on
      // every heartbeat (UnknownActivity). Its liveness is the workflow task's.
      heartbeat: (details) => {
        if (!context.info.isLocal) context.heartbeat(details);
      },
      signal: context.cancellationSignal,
      log: (message, fields) => context.log.info(message, { node: request.context.node, ...fields }),
      readFrom: (source) => {
        sources.push(source);
      },
      run: {
        workflowId: request.context.workflowId,
        runId: request.context.runId,
        pipeline: request.context.pipeline,
        node: request.context.node,
      },
    };
    // Bound to this run: the principal an alias moves as is this run's recorded approver. Made
    // when a step first reads it, since most never do; its calls wait for the step's start.
    const { store } = deps;
    if (store) {
      let bound: StepContext['store'];
      const { workflowId, planHash } = request.context;
      Object.defineProperty(ctx, 'store', {
        enumerable: true,
        get: () => (bound ??= stepStore(store, workflowId, planHash, recorder?.settle(request))),
      });
    }
    try {
      const output = impl.def.output.safeParse(await impl.run(parsed.data, ctx));
      if (!output.success) throw invalid(request, 'output', output.error);
      const envelope: StepEnvelope = { output: output.data as Record<string, unknown>, attempt };
      await recorder?.succeeded(request, key, envelope, sources);
      return envelope;
    } catch (error) {
      // A failed attempt records nothing more: whether it ends the step (retries exhausted, a
      // timeout, a lost worker, a cancellation) is the workflow's to decide, and it records that.
      await recorder?.settle(request);
      throw error;
    }
  };
  const activities: Record<string, (request: StepRequest) => Promise<StepEnvelope>> = {};
  // A step that runs as a child workflow has no activity of its own (deploy.rollout).
  for (const impl of live.steps()) if (!impl.def.workflow) activities[impl.def.name] = runStep;
  // Temporal's dynamic activity: a step a reload added after the worker started.
  if (steps instanceof LiveSteps) activities.default = runStep;
  return activities;
}

/**
 * The workflow's local activities: which steps exist (to refuse a plan naming an unknown one),
 * and the run's start and finish, recorded when the worker has a store.
 */
export function runActivities(steps: readonly StepImpl[] | LiveSteps, store?: Store) {
  const live = steps instanceof LiveSteps ? steps : new LiveSteps(steps);
  const code = store ? gitCodeVersion() : undefined;
  return {
    'kiln.catalog': async () => live.names(),
    'kiln.begin': async (start: BeginRequest): Promise<RunBegun> => {
      // The run keeps the steps it begins with, whatever a reload brings meanwhile.
      live.pin(start.workflowId);
      const names = live.names();
      const known = new Set(names);
      // The workflow has validated the plan's structure already; what it learns from here is
      // whether this worker has every step. A plan it will refuse is no run to record.
      const runnable = [...allNodes(start.plan.nodes)].every((n) => n.type !== 'step' || known.has(n.step.name));
      if (runnable) checkApprovalWiring(start.plan, live.steps());
      if (store && runnable) {
        // Steps, and the decisions they act on, trust the plan's hash from here on: it must be its content's.
        const hash = planHash(planWithoutHash(start.plan));
        if (hash !== start.plan.hash)
          throw ApplicationFailure.nonRetryable(
            `the plan names hash ${start.plan.hash.slice(0, 12)}, but its content hashes to ${hash.slice(0, 12)}; compile the pipeline again`,
            FailureTypes.InvalidPlan,
          );
        const earlier = await store.runs.getRun(SYSTEM, start.workflowId);
        // Temporal lets a closed workflow id be used again; Kiln's run id is that workflow id.
        // A reset keeps the original execution's run id, which is what the workflow sends.
        if (earlier && !start.resumed && earlier.temporalRunId !== start.temporalRunId) {
          throw ApplicationFailure.nonRetryable(
            `run id '${start.workflowId}' already names a run started ${earlier.startedAt.toISOString()}; start this one with another workflow id`,
            FailureTypes.DuplicateRunId,
          );
        }
        // A continuation records the start too (idempotent), for runs begun before a store was attached.
        await store.runs.recordRunStart(SYSTEM, {
          runId: start.workflowId,
          workflowId: start.workflowId,
          ...(start.resumed ? {} : { temporalRunId: start.temporalRunId }),
          plan: start.plan,
          params: start.params,
          code: await code!,
          ...(start.schedule ? { scheduleId: start.schedule } : {}),
        });
      }
      return { steps: names, recording: Boolean(store) && runnable };
    },
    'kiln.recordStep': async (event: StepOutcomeEvent) => {
      await store?.steps.recordStepFinish(SYSTEM, {
        runId: event.workflowId,
        nodeId: event.node,
        step: event.step,
        status: event.outcome,
        attempt: event.attempts,
        ...(event.error ? { error: event.error } : {}),
      });
    },
    // A decision the run was sent counts only if `kiln approve` recorded it (after checking the
    // role); one sent straight to Temporal is refused here, and the refusal audited.
    'kiln.decisionOnRecord': async (workflowId: string, decision: Decision): Promise<boolean> => {
      if (!store) return true;
      const recorded = await store.decisions.listDecisions(SYSTEM, workflowId);
      const wanted = decision.approved ? 'approved' : 'rejected';
      if (recorded.some((r) => r.gate === decision.gate && r.decision === wanted && r.decidedBy === decision.by))
        return true;
      await store.audit.appendAudit(SYSTEM, {
        actor: decision.by,
        action: 'access.denied',
        subject: `run:${workflowId}#${decision.gate}`,
        after: {
          action: `gate.${decision.approved ? 'approve' : 'reject'}`,
          reason: 'no decision on record; the gate waits on',
        },
      });
      return false;
    },
    'kiln.recordRun': async (event: RunEvent) => {
      live.release(event.workflowId);
      await store?.runs.recordRunFinish(SYSTEM, {
        runId: event.workflowId,
        status: event.status,
        ...(event.error ? { error: event.error } : {}),
      });
    },
  };
}
