import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Semaphore } from '../../workflows/semaphore';

describe('Semaphore', () => {
  it('takes free slots at once, refuses beyond the bound, and never jumps the queue', async () => {
    const slots = new Semaphore(2);
    assert.equal(slots.tryAcquire(), true);
    assert.equal(slots.tryAcquire(), true);
    assert.equal(slots.tryAcquire(), false, 'the bound holds');
    const order: string[] = [];
    const waiting = slots.acquire().then(() => order.push('waiter'));
    slots.release();
    // The freed slot went to the waiter, so a newcomer may not take it.
    assert.equal(slots.tryAcquire(), false);
    await waiting;
    assert.deepEqual(order, ['waiter']);
    slots.release();
    assert.equal(slots.tryAcquire(), true);
  });
});
