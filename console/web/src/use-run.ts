import { useEffect, useState } from 'react';
import type { RunDetail } from '../../api';
import { useApi, type Fetched } from './use-api';

/**
 * A run and its nodes, live: fetched once, then followed by the server's `snapshot` events while
 * it runs. The stream is closed once a snapshot says the run is over, so the browser does not
 * reconnect to a finished run.
 */
export function useRun(runId: string): Fetched<RunDetail> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  const fetched = useApi<RunDetail>(path);
  const [live, setLive] = useState<{ runId: string; detail: RunDetail }>();
  const running = fetched.data?.run.state === 'running';
  const { reload } = fetched;

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
  return { ...fetched, data };
}
