import type { Source } from './plan';

const SOURCE = Symbol.for('kiln.source');

/** A typed reference to a value that exists only when the pipeline runs. */
export interface Handle<T> {
  readonly [SOURCE]: Source;
  /** Phantom: carries T so that wiring a handle of the wrong type fails to compile. */
  readonly __type?: T;
}

/** A handle whose fields are handles too: `trial.metrics.auc`. */
export type Deep<T> = Handle<T> &
  (T extends readonly unknown[] ? unknown : T extends object ? { readonly [K in keyof T]-?: Deep<T[K]> } : unknown);

/** What a step input accepts: the value itself, a handle to it, or a structure holding handles. */
export type Wire<T> =
  | Handle<T>
  | (T extends readonly (infer E)[]
      ? readonly Wire<E>[]
      : T extends Record<string, unknown>
        ? { [K in keyof T]: Wire<T[K]> }
        : T);

/** The value a wired structure will have at run time. */
export type Unwire<W> =
  W extends Handle<infer T>
    ? T
    : W extends readonly unknown[]
      ? { [K in keyof W]: Unwire<W[K]> }
      : W extends object
        ? { [K in keyof W]: Unwire<W[K]> }
        : W;

export const isHandle = (value: unknown): value is Handle<unknown> =>
  (typeof value === 'object' || typeof value === 'function') && value !== null && SOURCE in value;

export const sourceOf = (handle: Handle<unknown>): Source => handle[SOURCE];

const withPath = (source: Source, key: string): Source =>
  source.kind === 'index' ? source : { ...source, path: [...source.path, key] };

/** A handle that hands out a nested handle for any field read from it. */
export function handle<T>(source: Source): Deep<T> {
  return new Proxy(Object.create(null) as object, {
    get(_target, key) {
      if (key === SOURCE) return source;
      // Not a promise: `await handle` must not treat a handle as thenable.
      if (typeof key === 'symbol' || key === 'then') return undefined;
      return handle(withPath(source, key));
    },
    has: (_target, key) => key === SOURCE,
  }) as Deep<T>;
}
