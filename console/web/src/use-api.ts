import { useCallback, useEffect, useState } from 'react';
import { api } from './api-client';

/** What a GET gave: data once loaded, or the error, and a way to ask again. */
export interface Fetched<T> {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
}

/**
 * GETs `/api${path}` and again when `path` changes or `reload` is called; `every` (ms) polls.
 * A null path fetches nothing. Earlier answers that arrive late are dropped.
 */
export function useApi<T>(path: string | null, { every }: { every?: number } = {}): Fetched<T> {
  const [state, setState] = useState<{ path: string | null; data?: T; error?: Error }>({ path });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    api
      .get<T>(path, abort.signal)
      .then((data) => setState({ path, data }))
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setState({ path, error: error instanceof Error ? error : new Error(String(error)) });
      });
    return () => abort.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!every || path === null) return;
    const timer = setInterval(reload, every);
    return () => clearInterval(timer);
  }, [every, path, reload]);

  // Data of another path is not this path's: show nothing rather than the wrong thing.
  const current = state.path === path;
  return { data: current ? state.data : undefined, error: current ? state.error : undefined, reload };
}
