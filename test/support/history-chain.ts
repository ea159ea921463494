import type { Client } from '@temporalio/client';
import { historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { tsToMs } from '@temporalio/common/lib/time';

/** One run of a continue-as-new chain: its event count, its history's size as JSON, and its input's size. */
export interface Generation {
  events: number;
  /** As JSON, which is larger than the server's protobuf. */
  bytes: number;
  inputBytes: number;
  /** From its first event to its last. */
  ms: number;
  /** From its first event to its first scheduled activity, when it schedules any. */
  startupMs?: number;
}

/** Every generation of a workflow, following continue-as-new from its first run. */
export async function historyChain(client: Client, workflowId: string, firstRunId: string): Promise<Generation[]> {
  const found: Generation[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes);
    found.push({
      events: events.length,
      bytes: historyToJSON(history).length,
      inputBytes: events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data?.length ?? 0,
      ms: tsToMs(events.at(-1)?.eventTime) - tsToMs(events[0]?.eventTime),
      ...(scheduled ? { startupMs: tsToMs(scheduled.eventTime) - tsToMs(events[0]?.eventTime) } : {}),
    });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return found;
}
