import { defineSearchAttributeKey } from '@temporalio/common';
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

/** Set by Temporal on a run its Schedule started: the time the run was due. */
const scheduledStart = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

const monitor = wf.proxyActivities<MonitorActivities>({
  startToCloseTimeout: '5m',
  // The activities heartbeat every 3 s: a worker killed mid-window is retried on another within 15 s.
  heartbeatTimeout: '15s',
  retry: { maximumAttempts: 5, initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * One monitoring window, started by the monitor's Temporal Schedule (or `kiln monitor run`):
 * measures the window's logged predictions against the training dataset found through lineage,
 * keeps the report, then applies the policy, once per drift episode.
 */
export async function monitorWindow(request: MonitorWindowRequest): Promise<MonitorWindowResult> {
  // A scheduled run's window ends when it was due, so windows follow each other without gaps or
  // overlap however late a run starts; a run started by hand ends its window at its own start.
  const due = wf.workflowInfo().typedSearchAttributes.get(scheduledStart);
  const end = request.window?.end ?? (due ? new Date(due) : new Date()).toISOString();
  const report = await monitor['monitor.measure']({
    monitor: request.monitor,
    end,
    ...(request.window ? { start: request.window.start } : {}),
  });
  const actions = await monitor['monitor.act'](report);
  return { report, actions };
}
