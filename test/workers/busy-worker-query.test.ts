import assert from 'node:assert/strict';
import { it } from 'node:test';
import { busyNotice, queryStatus, type RunHandle } from '../../cli/follow';
import type { RunSnapshot } from '../../workflows/protocol';

// What `kiln status` and `kiln run` do when the worker cannot answer a query in time: the
// server's DEADLINE_EXCEEDED ("query timed out before a worker could process it").

/** gRPC's status code DEADLINE_EXCEEDED. */
const DEADLINE_EXCEEDED = 4;

const timedOut = () =>
  Object.assign(new Error('4 DEADLINE_EXCEEDED: query timed out before a worker could process it'), {
    code: DEADLINE_EXCEEDED,
    details: 'query timed out before a worker could process it',
    metadata: {},
  });

const snapshot: RunSnapshot = {
  pipeline: 'p',
  planHash: 'h',
  status: 'running',
  startedAt: '2026-11-30T00:00:00.000Z',
  generation: 0,
  nodes: [],
};

/** A handle whose query fails with each error given, in turn, then answers. */
function handleFailing(...errors: Error[]): RunHandle & { asked: number } {
  const handle = {
    asked: 0,
    async query() {
      const error = errors[handle.asked++];
      if (error) throw error;
      return snapshot;
    },
  };
  return handle as unknown as RunHandle & { asked: number };
}

it('asks a busy worker again with growing waits until it answers, saying once that it is busy', async () => {
  const handle = handleFailing(timedOut(), timedOut());
  const waits: number[] = [];
  const lines: string[] = [];
  const notice = busyNotice((line) => lines.push(line));
  const answer = await queryStatus(handle, {
    onBusy: (ms) => {
      waits.push(ms);
      notice.onBusy();
    },
  });
  assert.deepEqual(answer, snapshot);
  assert.equal(handle.asked, 3);
  assert.deepEqual(waits, [500, 1000]);
  assert.deepEqual(lines, ['  the worker is busy and did not answer in time; asking again until it does']);
});

it('throws any other error at once, and a timeout once its patience is spent', async () => {
  const refused = handleFailing(new Error('workflow not found'));
  await assert.rejects(queryStatus(refused), /workflow not found/);
  assert.equal(refused.asked, 1);

  const busy = handleFailing(timedOut(), timedOut(), timedOut());
  await assert.rejects(queryStatus(busy, { patienceMs: 1000 }), /DEADLINE_EXCEEDED/);
  assert.equal(busy.asked, 2);
});
