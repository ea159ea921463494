import { z } from 'zod';
import { PlanError } from './errors';
import { handle, isHandle, sourceOf, type Deep, type Handle, type Unwire, type Wire } from './handle';
import type { Binding, CompareOp, Condition, Duration, PlanNode, StepOptions } from './plan';
import type { StepDef, StepInput, StepOutput } from './step';

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export type StepInputs<D> = { [K in keyof StepInput<D>]: Wire<StepInput<D>[K]> };

export interface ApprovalDecision {
  /** The gate's id in the run, which the store's record of the decision names. */
  gate: string;
  approved: boolean;
  by: string;
  comment?: string;
  at: string;
}

/** A condition for `p.when`: a boolean handle, or a comparison made with `cond`. */
export type When = Handle<boolean> | Condition;

/**
 * Compares a handle with a value, for `p.when`.
 * @example p.when(cond(metrics.auc, '>=', 0.75), () => { p.step(register, { model }) });
 */
export const cond = <T>(value: Handle<T>, op: Exclude<CompareOp, 'truthy' | 'falsy'>, than: T): Condition => ({
  source: sourceOf(value),
  op,
  value: than,
});

/** Negates a boolean handle, for `p.when`. */
export const not = (value: Handle<boolean>): Condition => ({ source: sourceOf(value), op: 'falsy' });

/** The builder handed to a pipeline's build function. */
export interface Builder {
  /**
   * Adds a step; returns handles to its outputs.
   * @example const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2 });
   */
  /**
   * `after`: outputs this step must wait for although it reads none of them, e.g. a quality check
   * that must pass before training starts (skipped when any of them is skipped).
   */
  step<D extends StepDef>(
    def: D,
    inputs: StepInputs<D>,
    options?: StepOptions & { id?: string; after?: Handle<unknown>[] },
  ): Deep<StepOutput<D>>;
  /**
   * Runs the nodes built inside only when the condition holds at run time; otherwise they are skipped.
   * @example p.when(params.approve, () => { p.approval('release', { show: { auc: m.auc } }) });
   */
  when(condition: When, build: () => void): void;
  /**
   * Repeats a sub-pipeline for each element of a list known only at run time, and joins the results.
   * At most `parallelism` items (DEFAULT_MAP_PARALLELISM unless given) run at once. A joined result
   * larger than 128 KB, or one that outlived a continue-as-new, is passed to later steps by reference
   * (an artifact the worker reads back for them).
   * @example const trials = p.map(grid.trials, (trial) => p.step(train, { hyper: trial, data }).metrics);
   */
  map<E, W>(
    over: Handle<readonly E[]>,
    body: (item: Deep<E>, index: Handle<number>) => W,
    options?: { id?: string; parallelism?: number },
  ): Deep<Unwire<W>[]>;
  /**
   * Waits for a person to approve; rejection or timeout fails the run.
   * @example p.approval('deploy', { show: { auc: metrics.auc }, timeout: '24h' });
   */
  approval(
    gate: string,
    options?: { show?: Record<string, Wire<unknown>>; after?: Handle<unknown>[]; timeout?: Duration },
  ): Deep<ApprovalDecision>;
}

export interface PipelineDef<P extends ObjectSchema = ObjectSchema, R = unknown> {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly params: P;
  readonly defaults: StepOptions & { parallelism?: number };
  /** Builds the node list; called by `compile`. A method, so that any pipeline is a PipelineDef. */
  build(p: Builder, params: Deep<z.output<P>>): Wire<R> | void;
}

/** Any pipeline, whatever its parameters and result; what `compile` accepts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- params are contravariant in build; only `any` admits every pipeline
export type AnyPipeline = PipelineDef<any, any>;

export type PipelineParams<D> = D extends PipelineDef<infer P, unknown> ? z.input<P> : never;
export type PipelineResult<D> = D extends PipelineDef<ObjectSchema, infer R> ? R : never;

/**
 * Defines a pipeline: typed parameters and a build function that wires steps together.
 * @example
 * export default pipeline({ name: 'credit-risk', params: z.object({ seed: z.number().default(7) }) }, (p, params) => {
 *   const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv' });
 *   return p.step(profile, { dataset: raw.dataset });
 * });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a pipeline without parameters has an empty shape
export function pipeline<P extends ObjectSchema = z.ZodObject<{}>, W = void>(
  meta: {
    name: string;
    version?: string;
    description?: string;
    params?: P;
    defaults?: StepOptions & { parallelism?: number };
  },
  build: (p: Builder, params: Deep<z.output<P>>) => W,
): PipelineDef<P, Unwire<W>> {
  return {
    name: meta.name,
    version: meta.version ?? '1',
    description: meta.description,
    params: (meta.params ?? z.object({})) as P,
    defaults: meta.defaults ?? {},
    build: build as PipelineDef<P, Unwire<W>>['build'],
  };
}

/** Turns a wired value into a binding, checking literal parts against the schema when one is known. */
export function bind(value: unknown): Binding {
  if (isHandle(value)) return { kind: 'source', source: sourceOf(value) };
  if (Array.isArray(value)) {
    const items = value.map(bind);
    return items.every((b) => b.kind === 'literal') ? { kind: 'literal', value } : { kind: 'array', items };
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const fields = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bind(v)]));
    return Object.values(fields).every((b) => b.kind === 'literal')
      ? { kind: 'literal', value }
      : { kind: 'object', fields };
  }
  return { kind: 'literal', value };
}

interface Scope {
  nodes: PlanNode[];
  when: Condition[];
  mapId?: string;
}

const toCondition = (when: When): Condition =>
  'source' in when && 'op' in when ? (when as Condition) : { source: sourceOf(when as Handle<boolean>), op: 'truthy' };

/** Runs a pipeline's build function and returns its nodes and output binding. */
export function buildNodes(def: AnyPipeline): { nodes: PlanNode[]; output?: Binding } {
  const ids = new Set<string>();
  let maps = 0;
  const root: Scope = { nodes: [], when: [] };
  let scope = root;

  const claim = (id: string) => {
    if (!/^[A-Za-z][\w-]*$/.test(id))
      throw new PlanError(id, 'id', 'an id must start with a letter and hold only letters, digits, _ and -');
    if (ids.has(id)) throw new PlanError(id, 'id', `the id '${id}' is used twice; pass { id } to tell the two apart`);
    ids.add(id);
    return id;
  };
  const when = () => (scope.when.length ? { when: [...scope.when] } : {});

  const p: Builder = {
    step(def, inputs, options = {}) {
      const { id: explicitId, after, ...stepOptions } = options;
      const id = claim(explicitId ?? def.name.split('.').pop()!);
      const shape = (def.input as ObjectSchema).shape;
      const bindings: Record<string, Binding> = {};
      for (const [field, value] of Object.entries(inputs as Record<string, unknown>)) {
        if (!(field in shape))
          throw new PlanError(
            id,
            field,
            `step '${def.name}' has no input '${field}'; it takes ${Object.keys(shape).join(', ')}`,
          );
        const binding = bind(value);
        if (binding.kind === 'literal') {
          const checked = (shape[field] as z.ZodType).safeParse(binding.value);
          if (!checked.success) throw new PlanError(id, field, z.prettifyError(checked.error).replace(/\n/g, '; '));
        }
        bindings[field] = binding;
      }
      for (const [field, schema] of Object.entries(shape)) {
        if (!(field in bindings) && !(schema as z.ZodType).safeParse(undefined).success) {
          throw new PlanError(id, field, `required input of '${def.name}' is not wired`);
        }
      }
      scope.nodes.push({
        id,
        type: 'step',
        step: { name: def.name, version: def.version },
        inputs: bindings,
        outputKeys: Object.keys((def.output as ObjectSchema).shape),
        options: { ...def.options, ...stepOptions },
        ...(after?.length ? { after: after.map(sourceOf) } : {}),
        ...(def.workflow ? { workflow: def.workflow } : {}),
        ...when(),
      });
      return handle({ kind: 'ref', node: id, path: [] });
    },

    when(condition, build) {
      scope.when.push(toCondition(condition));
      try {
        build();
      } finally {
        scope.when.pop();
      }
    },

    map(over, body, options = {}) {
      const id = claim(options.id ?? `map${++maps}`);
      const outer = scope;
      scope = { nodes: [], when: [], mapId: id };
      try {
        const output = bind(body(handle({ kind: 'item', map: id, path: [] }), handle({ kind: 'index', map: id })));
        outer.nodes.push({
          id,
          type: 'map',
          over: bind(over),
          nodes: scope.nodes,
          output,
          ...(options.parallelism ? { parallelism: options.parallelism } : {}),
          ...(outer.when.length ? { when: [...outer.when] } : {}),
        });
      } finally {
        scope = outer;
      }
      return handle({ kind: 'ref', node: id, path: [] });
    },

    approval(gate, options = {}) {
      const id = claim(gate);
      const show = Object.fromEntries(Object.entries(options.show ?? {}).map(([k, v]) => [k, bind(v)]));
      scope.nodes.push({
        id,
        type: 'approval',
        gate,
        show,
        after: (options.after ?? []).map(sourceOf),
        ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
        ...when(),
      });
      return handle({ kind: 'ref', node: id, path: [] });
    },
  };

  const params = Object.fromEntries(
    Object.keys(def.params.shape).map((name) => [name, handle({ kind: 'param', name, path: [] })]),
  );
  const returned = def.build(p, params as never);
  const output = returned === undefined ? undefined : bind(returned);
  return { nodes: root.nodes, ...(output ? { output } : {}) };
}
