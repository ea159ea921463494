import { proxyActivities } from '@temporalio/workflow';

// The floor: the same map written by hand, with the same number of lanes and retry policy,
// keeping every result in the workflow and returning the list.
const { add } = proxyActivities<{ add(input: { a: number; b: number }): Promise<{ sum: number }> }>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 },
});

export async function handMap(n: number, lanes: number): Promise<number[]> {
  const sums = new Array<number>(n);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < n; i = next++) sums[i] = (await add({ a: i, b: 1 })).sum;
  };
  await Promise.all(Array.from({ length: Math.min(lanes, n) }, lane));
  return sums;
}
