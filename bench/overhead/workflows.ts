import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

// The floor: the same no-op activity called from hand-written Temporal workflows.
const { noop } = proxyActivities<{ noop(input: { after?: unknown }): Promise<{ ok: boolean }> }>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

// The floor for light steps: the same activity as a local activity, with the same policy.
const local = proxyLocalActivities<{ noop(input: { after?: unknown }): Promise<{ ok: boolean }> }>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

export async function handChain(n: number): Promise<number> {
  let last: unknown;
  for (let i = 0; i < n; i++) last = await noop({ after: last });
  return n;
}

export async function handFan(n: number): Promise<number> {
  await Promise.all(Array.from({ length: n }, () => noop({})));
  return n;
}

export async function handLocalChain(n: number): Promise<number> {
  let last: unknown;
  for (let i = 0; i < n; i++) last = await local.noop({ after: last });
  return n;
}
