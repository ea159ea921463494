import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../../workers/bundle';

// A history recorded from test/fixtures/replay-pipeline.ts (map, condition, approval). Replaying it
// against today's workflow code fails if a change would break runs already in flight.
it('replays a recorded history with map, condition and approval without nondeterminism', async () => {
  const json = JSON.parse(await readFile(join(import.meta.dirname, '../fixtures/histories/replay.json'), 'utf8'));
  const history = historyFromJSON(json);
  assert.ok((history.events?.length ?? 0) > 30);
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'recorded-replay');
});
