import type { PGlite, QueryOptions, Transaction } from '@electric-sql/pglite';

/**
 * The PGlite client as drizzle should see it. drizzle passes the same parsers with every query
 * (timestamps, dates and intervals kept as text), and PGlite copies its table of some 300 types
 * to merge them in each time, which doubles the cost of a small query. Here they go into the
 * client's own table instead, where every later query finds them at no cost.
 */
export function withDrizzleParsers(client: PGlite): PGlite {
  const own = (options: QueryOptions | undefined) => {
    if (!options?.parsers) return options;
    const { parsers, ...rest } = options;
    Object.assign(client.parsers, parsers);
    return rest;
  };
  const wrap = <C extends PGlite | Transaction>(target: C): C =>
    new Proxy(target, {
      get(t, property) {
        if (property === 'query')
          return (query: string, params?: unknown[], options?: QueryOptions) => t.query(query, params, own(options));
        if (property === 'transaction')
          return <T>(callback: (tx: Transaction) => Promise<T>) =>
            (t as PGlite).transaction((tx) => callback(wrap(tx)));
        // Bound to the client itself: PGlite's methods use private fields, which a proxy does not have.
        const value: unknown = Reflect.get(t, property, t);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
      },
    });
  return wrap(client);
}
