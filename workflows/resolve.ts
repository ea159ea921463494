import type { Binding, Condition, Source } from '../dsl/plan';

/** Values a binding can read: finished nodes by id, parameters, and the items of enclosing maps. */
export interface Env {
  value(node: string): unknown;
  param(name: string): unknown;
  item(map: string): { item: unknown; index: number };
}

const walk = (value: unknown, path: string[]) =>
  path.reduce<unknown>(
    (v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined),
    value,
  );

export function readSource(source: Source, env: Env): unknown {
  switch (source.kind) {
    case 'ref':
      return walk(env.value(source.node), source.path);
    case 'param':
      return walk(env.param(source.name), source.path);
    case 'item':
      return walk(env.item(source.map).item, source.path);
    case 'index':
      return env.item(source.map).index;
  }
}

export function resolve(binding: Binding, env: Env): unknown {
  switch (binding.kind) {
    case 'literal':
      return binding.value;
    case 'source':
      return readSource(binding.source, env);
    case 'object':
      return Object.fromEntries(Object.entries(binding.fields).map(([k, b]) => [k, resolve(b, env)]));
    case 'array':
      return binding.items.map((b) => resolve(b, env));
  }
}

export function holds(condition: Condition, env: Env): boolean {
  const value = readSource(condition.source, env);
  const than = condition.value as number;
  switch (condition.op) {
    case 'truthy':
      return Boolean(value);
    case 'falsy':
      return !value;
    case '==':
      return value === than;
    case '!=':
      return value !== than;
    case '>':
      return (value as number) > than;
    case '>=':
      return (value as number) >= than;
    case '<':
      return (value as number) < than;
    case '<=':
      return (value as number) <= than;
  }
}

export const describeCondition = (c: Condition) => {
  const s = c.source;
  const name =
    s.kind === 'ref'
      ? [s.node, ...s.path].join('.')
      : s.kind === 'param'
        ? ['params', s.name, ...s.path].join('.')
        : s.kind;
  return c.op === 'truthy' ? name : c.op === 'falsy' ? `not ${name}` : `${name} ${c.op} ${JSON.stringify(c.value)}`;
};
