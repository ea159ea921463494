import { useEffect, useState } from 'react';
import type { RunDetail } from '../../api';
import { RequestError } from './api-client';
import { useApi, type Fetched } from './use-api';

/** How long a run this tab started may be unknown to the store: the worker records it at its start. */
const RECORDING_GRACE_MS = 20_000;
const startedHere = new Set<string>();

/** Notes that this tab has just started `runId`, so its page waits for the worker to record it. */
export function startedRun(runId: string): void {
  startedHere.add(runId);
}

/**
 * A run and its nodes, live: fetched once, then followed by the server's `snapshot` events while
 * it runs. The stream is closed once a snapshot says the run is over, so the browser does not
 * reconnect to a finished run. A run this tab just started is not in the store until the worker
 * records it: its 404 is asked again each second, for a while, before it is shown.
 */
export function useRun(runId: string): Fetched<RunDetail> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  const fetched = useApi<RunDetail>(path);
  const [live, setLive] = useState<{ runId: string; detail: RunDetail }>();
  const running = fetched.data?.run.state === 'running';
  const { reload } = fetched;
  const [since] = useState(() => Date.now());
  const unknown = fetched.error instanceof RequestError && fetched.error.status === 404 && startedHere.has(runId);
  const graceLeft = unknown && Date.now() - since < RECORDING_GRACE_MS;

  useEffect(() => {
    if (!graceLeft) return;
    const timer = setTimeout(reload, 1000);
    return () => clearTimeout(timer);
  }, [graceLeft, fetched.error, reload]);

  useEffect(() => {
    if (!running) return;
    const source = new EventSource(`/api${path}/events`);
    source.addEventListener('snapshot', (event) => {
      const detail = JSON.parse((event as MessageEvent<string>).data) as RunDetail;
      setLive({ runId, detail });
      if (detail.run.state !== 'running') source.close();
    });
    // Refused or gone (the browser gives up on a non-200 answer): ask plainly, to show why.
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) reload();
    };
    return () => source.close();
  }, [running, path, runId, reload]);

  const data = live?.runId === runId ? live.detail : fetched.data;
  return { ...fetched, data, error: graceLeft ? undefined : fetched.error };
}
