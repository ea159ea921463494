import * as wf from '@temporalio/workflow';
import type { MonitorActivities } from '../activities/monitor/monitor';
import type { MonitorAction, MonitorReport } from '../monitor/report';

/** One window of a monitor: its name, and the window when not the `every` before now. */
export interface MonitorWindowRequest {
  monitor: string;
  window?: { start: string; end: string };
}

export interface MonitorWindowResult {
  report: MonitorReport;
  actions: MonitorAction[];
}

const monitor = wf.proxyActivities<MonitorActivities>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 5, initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * One monitoring window, started by the monitor's Temporal Schedule (or `kiln monitor run`):
 * measures the window's logged predictions against the training dataset found through lineage,
 * keeps the report, then applies the policy, once per drift episode.
 */
export async function monitorWindow(request: MonitorWindowRequest): Promise<MonitorWindowResult> {
  // Workflow time: the scheduled start of this run, the same on replay.
  const end = request.window?.end ?? new Date().toISOString();
  const report = await monitor['monitor.measure']({
    monitor: request.monitor,
    end,
    ...(request.window ? { start: request.window.start } : {}),
  });
  const actions = await monitor['monitor.act'](report);
  return { report, actions };
}
