import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineStep, implement, z } from 'kiln';
import { LiveSteps } from '../../workers/live-steps';

const def = defineStep({
  name: 'user.mark',
  version: 'auto',
  input: z.object({}),
  output: z.object({ mark: z.string() }),
});
const marking = (mark: string) => implement(def, async () => ({ mark }));
const other = implement(
  defineStep({ name: 'user.other', version: '1', input: z.object({}), output: z.object({}) }),
  async () => ({}),
);

describe('LiveSteps', () => {
  it('keeps a run in flight on the code it began with after a reload; a new run gets the new code', () => {
    const [before, after] = [marking('old'), marking('new')];
    const live = new LiveSteps([before]);
    live.pin('run-1');
    live.replace([after]);
    live.pin('run-2');
    assert.equal(live.lookup('user.mark', 'run-1'), before);
    assert.equal(live.lookup('user.mark', 'run-2'), after);
    live.release('run-1');
    assert.equal(live.lookup('user.mark', 'run-1'), after, 'a finished run no longer holds the old generation');
  });

  it('finds a step a reload added, and forgets one it removed, for new runs only', () => {
    const live = new LiveSteps([marking('a')]);
    live.pin('old-run');
    live.replace([other]);
    assert.deepEqual(live.names(), ['user.other']);
    assert.equal(live.lookup('user.other', 'new-run'), other);
    assert.equal(live.lookup('user.mark', 'new-run'), undefined);
    assert.ok(live.lookup('user.mark', 'old-run'));
  });

  it('refuses two implementations of one step', () => {
    assert.throws(() => new LiveSteps([marking('a'), marking('b')]), /two implementations of step 'user\.mark'/);
  });
});
