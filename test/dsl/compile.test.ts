import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  compile,
  cond,
  defineStep,
  pipeline,
  PlanError,
  resolveParams,
  validatePlan,
  type PipelinePlan,
} from '../../dsl';
import { add, list, noop } from '../fixtures/steps';

const chain = pipeline(
  { name: 'chain', params: z.object({ start: z.number().default(1), label: z.string() }) },
  (p, params) => {
    const first = p.step(add, { a: params.start, b: 2 });
    const second = p.step(add, { a: first.sum, b: 3 }, { id: 'second', retry: { maximumAttempts: 7 } });
    return { total: second.sum };
  },
);

const throwsPlanError = (fn: () => unknown, node: string, field: string | undefined, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PlanError, `expected PlanError, got ${String(e)}`);
    assert.equal(e.node, node);
    assert.equal(e.field, field);
    assert.match(e.message, pattern);
    return true;
  });

const clone = (plan: PipelinePlan): PipelinePlan => JSON.parse(JSON.stringify(plan));

describe('compile', () => {
  it('turns wired steps into nodes whose inputs reference upstream outputs and parameters', () => {
    const plan = compile(chain);
    assert.deepEqual(
      plan.nodes.map((n) => n.id),
      ['add', 'second'],
    );
    const second = plan.nodes[1]!;
    assert.equal(second.type, 'step');
    assert.deepEqual(second.type === 'step' && second.inputs.a, {
      kind: 'source',
      source: { kind: 'ref', node: 'add', path: ['sum'] },
    });
    assert.deepEqual(plan.nodes[0]!.type === 'step' && plan.nodes[0]!.inputs.a, {
      kind: 'source',
      source: { kind: 'param', name: 'start', path: [] },
    });
    assert.deepEqual(second.type === 'step' && second.options.retry, { maximumAttempts: 7 });
  });

  it('records parameter defaults and which parameters are required', () => {
    const plan = compile(chain);
    assert.deepEqual(plan.params.start, { type: 'number', default: 1, required: false });
    assert.deepEqual(plan.params.label, { type: 'string', required: true });
  });

  it('gives the same hash to the same pipeline and a different hash to a changed one', () => {
    const again = pipeline(
      { name: 'chain', params: z.object({ start: z.number().default(1), label: z.string() }) },
      (p, params) => {
        const first = p.step(add, { a: params.start, b: 2 });
        return { total: p.step(add, { a: first.sum, b: 4 }, { id: 'second', retry: { maximumAttempts: 7 } }).sum };
      },
    );
    assert.equal(compile(chain).hash, compile(chain).hash);
    assert.match(compile(chain).hash, /^[0-9a-f]{64}$/);
    assert.notEqual(compile(again).hash, compile(chain).hash);
  });

  it('compiles a map whose body reads the item and an outer node', () => {
    const fan = pipeline({ name: 'fan' }, (p) => {
      const items = p.step(list, { n: 3 });
      const base = p.step(add, { a: 1, b: 1 }, { id: 'base' });
      return p.map(items.items, (item) => p.step(add, { a: item.x, b: base.sum }).sum, {
        id: 'trials',
        parallelism: 2,
      });
    });
    const plan = compile(fan);
    const map = plan.nodes.find((n) => n.id === 'trials');
    assert.equal(map?.type, 'map');
    assert.equal(map?.type === 'map' && map.parallelism, 2);
    assert.deepEqual(map?.type === 'map' && map.nodes.map((n) => n.id), ['add']);
    assert.deepEqual(plan.output, { kind: 'source', source: { kind: 'ref', node: 'trials', path: [] } });
  });

  it('attaches conditions to every node built inside when', () => {
    const gated = pipeline({ name: 'gated', params: z.object({ go: z.boolean().default(false) }) }, (p, params) => {
      const a = p.step(add, { a: 1, b: 2 });
      p.when(params.go, () =>
        p.when(cond(a.sum, '>=', 3), () => {
          p.step(noop, { after: a.sum });
        }),
      );
    });
    const node = compile(gated).nodes.find((n) => n.id === 'noop')!;
    assert.deepEqual(
      node.when?.map((c) => c.op),
      ['truthy', '>='],
    );
  });
});

describe('validation errors name the node and field', () => {
  it('rejects two steps with the same id', () => {
    const dup = pipeline({ name: 'dup' }, (p) => {
      p.step(add, { a: 1, b: 2 });
      p.step(add, { a: 1, b: 2 });
    });
    throwsPlanError(() => compile(dup), 'add', 'id', /used twice/);
  });

  it('rejects a literal input that fails its schema', () => {
    const bad = pipeline({ name: 'bad' }, (p) => {
      p.step(list, { n: -1 });
    });
    throwsPlanError(() => compile(bad), 'list', 'n', /greater than or equal to 0|>=0/);
  });

  it('rejects a required input left unwired', () => {
    const missing = pipeline({ name: 'missing' }, (p) => {
      p.step(add, { a: 1 } as never);
    });
    throwsPlanError(() => compile(missing), 'add', 'b', /not wired/);
  });

  it("records a step's `after` as ordering only, and refuses one naming no node", () => {
    const ordered = pipeline({ name: 'ordered' }, (p) => {
      const check = p.step(noop, {}, { id: 'check' });
      p.step(add, { a: 1, b: 2 }, { after: [check.ok] });
    });
    const plan = clone(compile(ordered));
    const step = plan.nodes.find((n) => n.id === 'add');
    assert.ok(step?.type === 'step');
    assert.deepEqual(step.after, [{ kind: 'ref', node: 'check', path: ['ok'] }]);
    assert.deepEqual(Object.keys(step.inputs), ['a', 'b'], 'after adds no input');
    step.after = [{ kind: 'ref', node: 'ghost', path: [] }];
    throwsPlanError(() => validatePlan(plan), 'add', 'after', /'ghost'.*dangling/);
  });

  it('rejects a plan whose step reads an output nobody produces', () => {
    const plan = clone(compile(chain));
    const second = plan.nodes[1]!;
    if (second.type === 'step')
      second.inputs.a = { kind: 'source', source: { kind: 'ref', node: 'ghost', path: ['sum'] } };
    throwsPlanError(() => validatePlan(plan), 'second', 'a', /'ghost'.*dangling/);
  });

  it('rejects a reference to an output key the step does not have', () => {
    const plan = clone(compile(chain));
    const second = plan.nodes[1]!;
    if (second.type === 'step')
      second.inputs.a = { kind: 'source', source: { kind: 'ref', node: 'add', path: ['total'] } };
    throwsPlanError(() => validatePlan(plan), 'second', 'a', /outputs only sum/);
  });

  it('rejects a duration the workflow could not read, naming node and field', () => {
    const plan = clone(compile(chain));
    const second = plan.nodes[1]!;
    if (second.type === 'step') second.options = { startToCloseTimeout: 'soon', retry: { initialInterval: '1s' } };
    throwsPlanError(() => validatePlan(plan), 'second', 'options.startToCloseTimeout', /"soon" is not a duration/);
    if (second.type === 'step') second.options = { retry: { maximumInterval: -5 } };
    throwsPlanError(() => validatePlan(plan), 'second', 'options.retry.maximumInterval', /-5 is not a duration/);
    plan.nodes[1] = { ...second, options: {} } as typeof second;
    plan.defaults = { parallelism: 0 };
    throwsPlanError(() => validatePlan(plan), '', 'defaults.parallelism', /at least 1/);
  });

  it('rejects a cycle in a plan loaded from JSON', () => {
    const plan = clone(compile(chain));
    const first = plan.nodes[0]!;
    if (first.type === 'step')
      first.inputs.b = { kind: 'source', source: { kind: 'ref', node: 'second', path: ['sum'] } };
    assert.throws(
      () => validatePlan(plan),
      (e: unknown) => e instanceof PlanError && /cycle: (add -> second -> add|second -> add -> second)/.test(e.message),
    );
  });

  it('rejects a step the worker library does not define', () => {
    const plan = clone(compile(chain));
    const first = plan.nodes[0]!;
    if (first.type === 'step') first.step.name = 'test.nope';
    throwsPlanError(
      () => validatePlan(plan, { has: (n) => n !== 'test.nope' }),
      'add',
      'step',
      /unknown step 'test.nope'/,
    );
  });

  it('rejects duplicate ids in a plan loaded from JSON, including inside a map', () => {
    const fan = pipeline({ name: 'fan' }, (p) =>
      p.map(p.step(list, { n: 2 }).items, (item) => p.step(add, { a: item.x, b: 1 }, { id: 'inner' }).sum, { id: 'm' }),
    );
    const plan = clone(compile(fan));
    const map = plan.nodes.find((n) => n.type === 'map');
    if (map?.type === 'map') map.nodes[0]!.id = 'list';
    throwsPlanError(() => validatePlan(plan), 'list', 'id', /duplicate id/);
  });

  it('rejects reading a map item outside its map', () => {
    const plan = clone(compile(chain));
    const first = plan.nodes[0]!;
    if (first.type === 'step') first.inputs.a = { kind: 'source', source: { kind: 'item', map: 'm', path: [] } };
    throwsPlanError(() => validatePlan(plan), 'add', 'a', /outside that map/);
  });

  it('rejects a parameter the pipeline does not declare', () => {
    const plan = clone(compile(chain));
    const first = plan.nodes[0]!;
    if (first.type === 'step') first.inputs.a = { kind: 'source', source: { kind: 'param', name: 'nope', path: [] } };
    throwsPlanError(() => validatePlan(plan), 'add', 'a', /parameter 'nope'/);
  });

  it('rejects something that is not a plan', () => {
    throwsPlanError(() => validatePlan({ kind: 'other' } as never), '', 'kind', /not a Kiln plan/);
  });

  it('rejects an input name the step does not take', () => {
    const extra = pipeline({ name: 'extra' }, (p) => {
      p.step(add, { a: 1, b: 2, c: 3 } as never);
    });
    throwsPlanError(() => compile(extra), 'add', 'c', /has no input 'c'/);
  });

  it('rejects a step name that is not dotted camelCase', () => {
    assert.throws(
      () => defineStep({ name: 'Bad Name', version: '1', input: z.object({}), output: z.object({}) }),
      /dotted camelCase/,
    );
  });
});

describe('parameters at run start', () => {
  const plan = compile(chain);
  it('fills defaults and keeps given values', () => {
    assert.deepEqual(resolveParams(plan, { label: 'x' }), { start: 1, label: 'x' });
    assert.deepEqual(resolveParams(plan, { label: 'x', start: 5 }), { start: 5, label: 'x' });
  });
  it('refuses a missing required parameter, an unknown one and a wrong type', () => {
    throwsPlanError(() => resolveParams(plan, {}), '', 'params.label', /required/);
    throwsPlanError(() => resolveParams(plan, { label: 'x', nope: 1 }), '', 'params.nope', /unknown parameter/);
    throwsPlanError(() => resolveParams(plan, { label: 'x', start: 'five' }), '', 'params.start', /expected number/);
  });
});
