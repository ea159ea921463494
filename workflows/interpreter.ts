import * as wf from '@temporalio/workflow';
import {
  ActivityFailure,
  ChildWorkflowFailure,
  ApplicationFailure,
  TemporalFailure,
  TimeoutFailure,
  isCancellation,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import { durationMs } from '../dsl/duration';
import { FailureTypes, type Failure } from '../dsl/failures';
import { dependencies, nodeSources } from '../dsl/graph';
import type { StepOutcome } from '../dsl/states';
import {
  DEFAULT_MAP_PARALLELISM,
  LIGHT_MAP_ITEMS,
  type ApprovalNode,
  type Duration,
  type MapNode,
  type PipelinePlan,
  type PlanNode,
  type RetryOptions,
  type StepNode,
} from '../dsl/plan';
import type {
  Carried,
  Decision,
  NodeSnapshot,
  RunOptions,
  RunSnapshot,
  StepActivity,
  StepEnvelope,
  StepOutcomeEvent,
  StepRequest,
} from './protocol';
import { MapResults, type ValueStore } from './map-results';
import { describeCondition, holds, resolve, type Env } from './resolve';
import { Semaphore } from './semaphore';

type Outcome = { skipped: false; value: unknown } | { skipped: true };

interface Scope {
  prefix: string;
  parent?: Scope;
  map?: { id: string; item: unknown; index: number };
  /** Inside a map of more than LIGHT_MAP_ITEMS items, where light steps run as regular activities. */
  wide?: boolean;
  outcomes: Map<string, Promise<Outcome>>;
  settled: Map<string, Outcome>;
}

/** Kiln's defaults where neither the step nor the pipeline says: three tries, then fail. */
const DEFAULT_RETRY: RetryOptions = { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 };
const DEFAULT_START_TO_CLOSE = '1h';

class SkippedValue extends Error {}

/** A node's failure, carrying the node so that the run fails naming it. */
export class NodeFailed extends Error {
  constructor(
    readonly node: string,
    readonly failure: Failure,
    options: { cause: unknown },
  ) {
    super(`step '${node}' failed: ${failure.message}`, options);
    this.name = 'NodeFailed';
  }
}

const now = () => new Date().toISOString();

/** validatePlan has checked every duration, so each one read here parses. */
const ms = (duration: Duration | undefined) => (duration === undefined ? undefined : durationMs(duration));

export function failureOf(error: unknown): Failure {
  if (error instanceof NodeFailed) return error.failure;
  if (error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
    if (cause instanceof TimeoutFailure)
      return { type: FailureTypes.Timeout, message: `timed out (${String(cause.timeoutType)})` };
    if (cause instanceof TemporalFailure) return { type: cause.name, message: cause.message };
  }
  if (error instanceof ApplicationFailure) return { type: error.type ?? 'Error', message: error.message };
  return { type: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) };
}

/** Interprets a plan: runs ready nodes, records their states, and drains for continue-as-new. */
export class Interpreter {
  readonly states = new Map<string, NodeSnapshot>();
  readonly decisions = new Map<string, Decision>();
  private readonly carried = new Map<string, NodeSnapshot>();
  private readonly carriedMaps: NonNullable<Carried['maps']>;
  /** Every map instance started in this generation, by instance id. */
  private readonly maps = new Map<string, MapResults>();
  private readonly slots: Semaphore;
  private running = 0;
  /** Outcome records under way; a run ends only after they are written. */
  private recording = 0;
  private draining = false;
  private readonly startedAt: string;
  private readonly generation: number;
  status: RunSnapshot['status'] = 'running';
  error?: RunSnapshot['error'];

  constructor(
    private readonly plan: PipelinePlan,
    private readonly params: Record<string, unknown>,
    private readonly options: RunOptions,
    carried?: Carried,
    /** Behaviours that change the order of commands, on only for runs that started with them (patched()). */
    private readonly since: {
      syncAdmission?: boolean;
      lightSteps?: boolean;
      mapLanes?: boolean;
      leanSteps?: boolean;
    } = {},
    /**
     * Records a step's terminal outcome (failed, cancelled, skipped): the workflow alone decides it,
     * since only it sees timeouts, lost workers and the end of retries. Absent when nothing records.
     */
    private readonly recordOutcome?: (event: StepOutcomeEvent) => Promise<void>,
    /** Whether the store holds a decision sent to a gate; absent when nothing records (then any decision counts). */
    private readonly confirmDecision?: (decision: Decision) => Promise<boolean>,
    /** Where maps keep item results outside history; absent for runs started before maps did. */
    private readonly values?: ValueStore,
  ) {
    this.slots = new Semaphore(options.parallelism ?? plan.defaults.parallelism ?? Infinity);
    this.startedAt = carried?.startedAt ?? now();
    this.generation = carried?.generation ?? 0;
    for (const state of carried?.finished ?? []) {
      this.carried.set(state.id, state);
      this.states.set(state.id, { ...state });
    }
    for (const d of carried?.decisions ?? []) this.decisions.set(d.gate, d);
    this.carriedMaps = carried?.maps ?? {};
  }

  /** Runs every node; resolves 'continue' when the run drained for continue-as-new. */
  async execute(): Promise<{ done: true; output: unknown } | { done: false }> {
    const root: Scope = { prefix: '', outcomes: new Map(), settled: new Map() };
    const scope = new wf.CancellationScope();
    const all = scope.run(() => this.runScope(this.plan.nodes, root));
    try {
      const winner = await Promise.race([
        all.then(() => 'done' as const),
        wf.condition(() => this.draining && this.running === 0).then(() => 'drained' as const),
      ]);
      if (winner === 'drained') return { done: false };
      this.status = 'succeeded';
      return { done: true, output: this.plan.output ? this.resolveLoose(this.plan.output, root) : undefined };
    } catch (error) {
      scope.cancel();
      // Steps cancelled with the run record their outcome before the run records its end.
      if (this.recordOutcome) {
        await wf.CancellationScope.nonCancellable(() => wf.condition(() => this.running === 0 && this.recording === 0));
      }
      const cancelled = isCancellation(error);
      this.status = cancelled ? 'cancelled' : 'failed';
      this.error = { ...failureOf(error), ...(error instanceof NodeFailed ? { node: error.node } : {}) };
      for (const state of this.states.values()) {
        if (['pending', 'running', 'waiting'].includes(state.status)) state.status = 'cancelled';
      }
      throw error;
    }
  }

  snapshot(): RunSnapshot {
    return {
      pipeline: this.plan.name,
      planHash: this.plan.hash,
      status: this.status,
      startedAt: this.startedAt,
      generation: this.generation,
      nodes: [...this.states.values()],
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** What the next generation needs; maps first write their buffered item results out. */
  async carry(): Promise<Carried> {
    const finished = [...this.states.values()].filter(
      (s) => s.status === 'succeeded' || s.status === 'skipped' || s.status === 'waiting',
    );
    const base = {
      startedAt: this.startedAt,
      generation: this.generation + 1,
      decisions: [...this.decisions.values()],
    };
    // Runs started before maps spilled carry each item's node, output included.
    if (!this.values) return { ...base, finished };
    const maps = { ...this.carriedMaps };
    for (const [id, results] of this.maps) maps[id] = await results.progress();
    // A finished map carries its output on its own node; its items' results are needed no more.
    for (const state of finished) if (state.type === 'map' && state.status === 'succeeded') delete maps[state.id];
    const spilled = [...this.maps.values()];
    return { ...base, finished: finished.filter((s) => !spilled.some((m) => m.holds(s.id))), maps };
  }

  /** Throws when a decision cannot be taken, so an Update is rejected before it is recorded. */
  checkDecision(d: Decision): void {
    if (!d || typeof d.gate !== 'string')
      throw ApplicationFailure.nonRetryable('a decision names its gate', FailureTypes.InvalidDecision);
    if (typeof d.by !== 'string' || !d.by.trim())
      throw ApplicationFailure.nonRetryable('a decision names who made it (by)', FailureTypes.InvalidDecision);
    if (typeof d.approved !== 'boolean')
      throw ApplicationFailure.nonRetryable('a decision says approved true or false', FailureTypes.InvalidDecision);
    const state = this.states.get(d.gate);
    if (state?.type !== 'approval') {
      const gates = [...this.states.values()].filter((s) => s.type === 'approval').map((s) => s.id);
      throw ApplicationFailure.nonRetryable(
        `no approval gate '${d.gate}' in this run${gates.length ? `; gates: ${gates.join(', ')}` : ''}`,
        FailureTypes.InvalidDecision,
      );
    }
    if (state.status !== 'waiting')
      throw ApplicationFailure.nonRetryable(
        `gate '${d.gate}' is ${state.status}, not waiting for a decision`,
        FailureTypes.InvalidDecision,
      );
  }

  decide(d: Decision): NodeSnapshot {
    this.decisions.set(d.gate, {
      gate: d.gate,
      approved: d.approved,
      by: d.by.trim(),
      ...(d.comment ? { comment: d.comment } : {}),
    });
    return this.states.get(d.gate)!;
  }

  private async runScope(nodes: PlanNode[], scope: Scope): Promise<void> {
    const ids = new Set(nodes.map((n) => n.id));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const start = (node: PlanNode) => {
      if (scope.outcomes.has(node.id)) return;
      for (const dep of dependencies(node, ids)) start(byId.get(dep)!);
      scope.outcomes.set(node.id, this.runNode(node, scope));
    };
    for (const node of nodes) start(node);
    await Promise.all(scope.outcomes.values());
  }

  private env(scope: Scope): Env {
    return {
      value: (node) => {
        const outcome = this.settled(node, scope);
        if (!outcome) throw new Error(`no value for '${node}'`);
        if (outcome.skipped) throw new SkippedValue(node);
        return outcome.value;
      },
      param: (name) => this.params[name],
      item: (map) => {
        for (let s: Scope | undefined = scope; s; s = s.parent) if (s.map?.id === map) return s.map;
        throw new Error(`not inside map '${map}'`);
      },
    };
  }

  /** Resolves a binding where skipped values become null: for outputs that gather optional results. */
  private resolveLoose(binding: Parameters<typeof resolve>[0], scope: Scope): unknown {
    try {
      return resolve(binding, this.env(scope));
    } catch (error) {
      if (error instanceof SkippedValue) return null;
      throw error;
    }
  }

  private lookup(id: string, scope: Scope): Promise<Outcome> | undefined {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const outcome = s.outcomes.get(id);
      if (outcome) return outcome;
    }
    return undefined;
  }

  private runNode(node: PlanNode, scope: Scope): Promise<Outcome> {
    const id = scope.prefix + node.id;
    const carried = this.carried.get(id);
    if (carried && carried.status !== 'waiting') {
      const outcome: Outcome =
        carried.status === 'skipped' ? { skipped: true } : { skipped: false, value: carried.output };
      scope.settled.set(node.id, outcome);
      return Promise.resolve(outcome);
    }
    const state: NodeSnapshot = this.states.get(id) ?? {
      id,
      type: node.type,
      status: 'pending',
      attempts: 0,
      ...(node.type === 'step' ? { step: node.step.name } : {}),
    };
    this.states.set(id, state);
    if (!this.since.leanSteps || node.type !== 'step') return this.runNodeAwaiting(node, id, state, scope, carried);
    // A step makes one promise of its own beside its activity's: every promise a workflow makes
    // costs a captured stack (the SDK's stack-trace query), and a fan-out of N steps makes N of them.
    const inputs = this.unsettled(node, scope);
    if (inputs.length === 0) return this.runLeanStep(node, id, state, scope);
    return Promise.all(inputs).then(() => this.runLeanStep(node, id, state, scope));
  }

  /** The outcomes a node reads that have not settled yet. */
  private unsettled(node: PlanNode, scope: Scope): Promise<Outcome>[] {
    const waits = new Set<Promise<Outcome>>();
    for (const { source } of nodeSources(node)) {
      if (source.kind !== 'ref' || source.node === node.id || this.settled(source.node, scope)) continue;
      const dep = this.lookup(source.node, scope);
      if (dep) waits.add(dep);
    }
    return [...waits];
  }

  /** A step whose inputs have all settled: skipped, or started with its outcome settled when it ends. */
  private runLeanStep(node: StepNode, id: string, state: NodeSnapshot, scope: Scope): Promise<Outcome> {
    for (const { source } of nodeSources(node)) {
      if (source.kind !== 'ref' || source.node === node.id) continue;
      if (this.settled(source.node, scope)?.skipped)
        return this.skip(node, id, state, scope, `'${source.node}' was skipped`);
    }
    const env = this.env(scope);
    const unmet = node.when?.find((condition) => !holds(condition, env));
    if (unmet) return this.skip(node, id, state, scope, `condition '${describeCondition(unmet)}' is false`);
    return this.runStep(node, id, state, env, scope.wide === true, (value) => {
      const outcome: Outcome = { skipped: false, value };
      scope.settled.set(node.id, outcome);
      return outcome;
    });
  }

  /** Every node of runs started before kiln.lean-steps, and approvals and maps: waits on each input in turn. */
  private async runNodeAwaiting(
    node: PlanNode,
    id: string,
    state: NodeSnapshot,
    scope: Scope,
    carried?: NodeSnapshot,
  ): Promise<Outcome> {
    for (const { source } of nodeSources(node)) {
      if (source.kind !== 'ref' || source.node === node.id) continue;
      const dep = this.lookup(source.node, scope);
      if (dep && (await dep).skipped) return this.skip(node, id, state, scope, `'${source.node}' was skipped`);
    }
    const env = this.env(scope);
    for (const condition of node.when ?? []) {
      if (!holds(condition, env))
        return this.skip(node, id, state, scope, `condition '${describeCondition(condition)}' is false`);
    }

    let value: unknown;
    switch (node.type) {
      case 'step':
        value = await this.runStepAwaiting(node, id, state, env, scope.wide === true);
        break;
      case 'approval':
        value = await this.runApproval(node, id, state, env, carried);
        break;
      case 'map':
        value = await this.runMap(node, id, state, scope, env);
        break;
    }
    const outcome: Outcome = { skipped: false, value };
    scope.settled.set(node.id, outcome);
    return outcome;
  }

  private async skip(node: PlanNode, id: string, state: NodeSnapshot, scope: Scope, because: string): Promise<Outcome> {
    state.status = 'skipped';
    state.skippedBecause = because;
    const outcome: Outcome = { skipped: true };
    scope.settled.set(node.id, outcome);
    if (node.type === 'step') await this.record(node, id, 'skipped', state);
    return outcome;
  }

  private settled(id: string, scope: Scope): Outcome | undefined {
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      const outcome = s.settled.get(id);
      if (outcome) return outcome;
    }
    return undefined;
  }

  private activityOptions(node: StepNode, id: string): wf.ActivityOptions {
    const o = { ...this.plan.defaults, ...node.options };
    const retry = { ...DEFAULT_RETRY, ...this.plan.defaults.retry, ...node.options.retry };
    // The Web UI names an activity by its type (the step) and id (the node): no summary repeats them,
    // which would cost each scheduled step a payload of its own.
    return {
      activityId: id,
      taskQueue: o.taskQueue ?? this.options.taskQueue,
      startToCloseTimeout: ms(o.startToCloseTimeout ?? (o.scheduleToCloseTimeout ? undefined : DEFAULT_START_TO_CLOSE)),
      scheduleToCloseTimeout: ms(o.scheduleToCloseTimeout),
      heartbeatTimeout: ms(o.heartbeatTimeout),
      retry: { ...retry, initialInterval: ms(retry.initialInterval), maximumInterval: ms(retry.maximumInterval) },
    };
  }

  /** Starts a step's activity once a slot is free; `settle` turns its output into what the promise holds. */
  private runStep<T>(
    node: StepNode,
    id: string,
    state: NodeSnapshot,
    env: Env,
    wide: boolean,
    settle: (output: unknown) => T,
  ): Promise<T> {
    const request = this.stepRequest(node, id, env);
    const options = this.activityOptions(node, id);
    const start = () => {
      this.stepStarted(state);
      return this.call(node, id, options, wide, request).then(
        (envelope) => {
          const output = this.stepSucceeded(state, envelope);
          this.stepEnded(state);
          return settle(output);
        },
        async (error: unknown) => {
          const { outcome, failure } = this.stepFailed(state, options, error);
          try {
            await this.record(node, id, outcome, state);
          } finally {
            this.stepEnded(state);
          }
          throw failure;
        },
      );
    };
    return !this.draining && this.slots.tryAcquire() ? start() : this.admit().then(start);
  }

  /** runStep for runs started before kiln.lean-steps: the same work, in the order of promises they recorded. */
  private async runStepAwaiting(
    node: StepNode,
    id: string,
    state: NodeSnapshot,
    env: Env,
    wide: boolean,
  ): Promise<unknown> {
    const request = this.stepRequest(node, id, env);
    const options = this.activityOptions(node, id);
    // A free slot is taken without a round through the microtask queue: every promise a workflow
    // makes costs a captured stack (the SDK's stack-trace query), and a fan-out makes many.
    const admitted = this.since.syncAdmission && !this.draining && this.slots.tryAcquire();
    if (!admitted) await this.admit();
    this.stepStarted(state);
    try {
      return this.stepSucceeded(state, await this.call(node, id, options, wide, request));
    } catch (error) {
      const { outcome, failure } = this.stepFailed(state, options, error);
      await this.record(node, id, outcome, state);
      throw failure;
    } finally {
      this.stepEnded(state);
    }
  }

  private stepRequest(node: StepNode, id: string, env: Env): StepRequest {
    const info = wf.workflowInfo();
    return {
      input: resolve({ kind: 'object', fields: node.inputs }, env),
      context: {
        workflowId: info.workflowId,
        runId: info.runId,
        pipeline: this.plan.name,
        planHash: this.plan.hash,
        node: id,
        step: node.step,
        cache: (this.options.cache ?? true) && (node.options.cache ?? this.plan.defaults.cache ?? true),
      },
    };
  }

  private stepStarted(state: NodeSnapshot): void {
    state.status = 'running';
    state.startedAt = now();
    this.running++;
  }

  private stepSucceeded(state: NodeSnapshot, envelope: StepEnvelope): unknown {
    state.status = 'succeeded';
    state.attempts = envelope.attempt;
    state.output = envelope.output;
    if (envelope.cached) state.cached = envelope.cached;
    return envelope.output;
  }

  /** Marks a step failed or cancelled; the failure is what the run fails with. */
  private stepFailed(state: NodeSnapshot, options: wf.ActivityOptions, error: unknown) {
    const cancelled = isCancellation(error);
    const outcome = cancelled ? ('cancelled' as const) : ('failed' as const);
    state.status = outcome;
    state.error = cancelled ? { type: FailureTypes.Cancelled, message: 'cancelled with the run' } : failureOf(error);
    state.attempts =
      error instanceof ActivityFailure && error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED
        ? (options.retry?.maximumAttempts ?? 0)
        : Math.max(state.attempts, 1);
    state.finishedAt = now();
    return { outcome, failure: cancelled ? error : new NodeFailed(state.id, state.error, { cause: error }) };
  }

  private stepEnded(state: NodeSnapshot): void {
    state.finishedAt ??= now();
    this.running--;
    this.slots.release();
    this.checkHistory();
  }

  private async runApproval(
    node: ApprovalNode,
    id: string,
    state: NodeSnapshot,
    env: Env,
    carried?: NodeSnapshot,
  ): Promise<unknown> {
    const show = Object.fromEntries(Object.entries(node.show).map(([k, b]) => [k, resolve(b, env)]));
    const since = carried?.gate?.since ?? now();
    state.gate = { name: id, show, since };
    state.status = 'waiting';
    state.startedAt ??= since;
    const decided = () => this.decisions.has(id);
    const deadline = node.timeout === undefined ? undefined : Date.parse(since) + ms(node.timeout)!;
    let decision: Decision | undefined;
    while (!decision) {
      if (deadline === undefined) await wf.condition(decided);
      else {
        const remaining = deadline - Date.parse(now());
        if (remaining <= 0 || !(await wf.condition(decided, remaining))) {
          return this.failGate(
            state,
            id,
            FailureTypes.ApprovalTimedOut,
            `approval gate '${id}' got no decision within ${String(node.timeout)}`,
          );
        }
      }
      const sent = this.decisions.get(id)!;
      // Anyone who reaches Temporal can send a decision; it counts once the store holds it
      // (`kiln approve` records it after checking the approver's role). Else the gate waits on.
      if (!this.confirmDecision || (await this.confirmDecision(sent))) decision = sent;
      else this.decisions.delete(id);
    }
    state.gate.decision = decision;
    state.finishedAt = now();
    if (!decision.approved) {
      return this.failGate(
        state,
        id,
        FailureTypes.ApprovalRejected,
        `approval gate '${id}' was rejected by ${decision.by}${decision.comment ? `: ${decision.comment}` : ''}`,
      );
    }
    state.status = 'succeeded';
    state.attempts = 1;
    state.output = { gate: id, approved: true, by: decision.by, comment: decision.comment, at: state.finishedAt };
    return state.output;
  }

  private failGate(state: NodeSnapshot, id: string, type: string, message: string): never {
    state.status = 'failed';
    state.finishedAt ??= now();
    state.error = { type, message };
    throw new NodeFailed(id, state.error, { cause: ApplicationFailure.nonRetryable(message, type) });
  }

  private async runMap(node: MapNode, id: string, state: NodeSnapshot, scope: Scope, env: Env): Promise<unknown> {
    const over = resolve(node.over, env);
    if (!Array.isArray(over)) {
      state.status = 'failed';
      state.error = {
        type: FailureTypes.InvalidInput,
        message: `map '${id}' expects a list to fan out over, got ${over === null ? 'null' : typeof over}`,
      };
      throw new NodeFailed(id, state.error, {
        cause: ApplicationFailure.nonRetryable(state.error.message, FailureTypes.InvalidInput),
      });
    }
    state.status = 'running';
    state.startedAt = now();
    state.items = over.length;
    const results = new MapResults(id, over.length, this.carriedMaps[id], this.values);
    this.maps.set(id, results);
    state.itemsDone = results.finished;
    // Runs started before the default took every item at once.
    const lanes = node.parallelism ?? (this.since.mapLanes ? DEFAULT_MAP_PARALLELISM : Infinity);
    // Each lane takes the next item when its last one is done: a list of any length costs only
    // `lanes` waiting promises, and items start in index order.
    let next = 0;
    const lane = async () => {
      for (let index = next++; index < over.length; index = next++) {
        if (results.has(index)) continue;
        const child: Scope = {
          prefix: `${id}[${index}].`,
          parent: scope,
          map: { id: node.id, item: over[index], index },
          // Runs started before maps had lanes ran light items as local activities however many.
          wide: scope.wide === true || (this.since.mapLanes === true && over.length > LIGHT_MAP_ITEMS),
          outcomes: new Map(),
          settled: new Map(),
        };
        await this.runScope(node.nodes, child);
        await results.add(index, this.resolveLoose(node.output, child));
        state.itemsDone = results.finished;
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, over.length) }, lane));
    const output = await results.output();
    state.status = 'succeeded';
    state.finishedAt = now();
    state.attempts = 1;
    state.output = output;
    return output;
  }

  /**
   * Runs a step as an activity, as a local activity when it is light (no round trip through a task
   * queue), or as a child workflow for a step that declares one (a rollout).
   */
  private call(
    node: StepNode,
    id: string,
    options: wf.ActivityOptions,
    wide: boolean,
    request: StepRequest,
  ): Promise<StepEnvelope> {
    const light = (node.options.light ?? this.plan.defaults.light) && !wide;
    // A step routed to its own queue asked for another worker; a light step runs in this one.
    if (this.since.lightSteps && light && !node.workflow && !node.options.taskQueue) {
      const { activityId: _id, taskQueue: _queue, heartbeatTimeout: _heartbeat, ...local } = options;
      return wf.proxyLocalActivities<Record<string, StepActivity>>(local)[node.step.name]!(request);
    }
    if (!node.workflow) return wf.proxyActivities<Record<string, StepActivity>>(options)[node.step.name]!(request);
    return wf.executeChild<(request: StepRequest) => Promise<StepEnvelope>>(node.workflow, {
      args: [request],
      // One child per node of this run, so a retried or replayed start finds the same rollout.
      workflowId: `${request.context.workflowId}/${id}`,
      ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
      // Its retries are its own activities'; a failed rollout is a decision, not a fault to retry.
      retry: { maximumAttempts: 1 },
    });
  }

  /** The one path by which a step's terminal outcome reaches the store; it runs even while the run is cancelled. */
  private async record(node: StepNode, id: string, outcome: StepOutcome, state: NodeSnapshot): Promise<void> {
    if (!this.recordOutcome) return;
    const event: StepOutcomeEvent = {
      workflowId: wf.workflowInfo().workflowId,
      node: id,
      step: node.step,
      outcome,
      attempts: state.attempts,
      ...(state.error ? { error: state.error } : {}),
    };
    this.recording++;
    try {
      await wf.CancellationScope.nonCancellable(() => this.recordOutcome!(event));
    } finally {
      this.recording--;
    }
  }

  private async admit(): Promise<void> {
    if (this.draining) await new Promise<never>(() => {});
    await this.slots.acquire();
  }

  private checkHistory(): void {
    const info = wf.workflowInfo();
    const limit = this.options.maxHistoryEvents;
    if (info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit)) this.draining = true;
  }
}
