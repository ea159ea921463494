import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sessions } from '../../console/server/session';
import type { Principal } from '../../store';

const alice: Principal = { id: 'p-alice', name: 'alice', role: 'viewer' };
const HOUR = 60 * 60 * 1000;

describe('console sessions', () => {
  it('finds a session until it expires, then forgets it', () => {
    const sessions = new Sessions();
    const id = sessions.open(alice, 0);
    assert.equal(sessions.find(id, HOUR)?.name, 'alice');
    assert.equal(sessions.find(id, 13 * HOUR), undefined, 'a 12-hour session has expired after 13 hours');
    assert.equal(sessions.size, 0);
  });

  it('sweeps expired sessions nobody came back to when someone signs in', () => {
    const sessions = new Sessions();
    for (let i = 0; i < 100; i++) sessions.open(alice, 0);
    const recent = sessions.open(alice, 11 * HOUR);
    assert.equal(sessions.size, 101, 'none has expired yet');
    sessions.open(alice, 13 * HOUR);
    assert.equal(sessions.size, 2, 'the 100 expired sessions are gone; the recent one and the new one stay');
    assert.equal(sessions.find(recent, 13 * HOUR)?.name, 'alice');
  });
});
