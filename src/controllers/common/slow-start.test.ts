/** @module slowStartBatch: batches of 1, 2, 4, … that stop at the first failing batch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slowStartBatch } from './slow-start.js';

test('batches of 1, 2, 4, … up to the count', async () => {
  let inFlight = 0;
  const batches: number[] = [];
  const { successes, error } = await slowStartBatch(10, 1, async () => {
    inFlight++;
    await Promise.resolve();
    if (inFlight > 0) batches.push(inFlight);
    inFlight = 0;
  });
  assert.equal(successes, 10);
  assert.equal(error, undefined);
  assert.deepEqual(batches, [1, 2, 4, 3]);
});

test('stops after the batch with the first failure', async () => {
  let calls = 0;
  const { successes, error } = await slowStartBatch(20, 1, async () => {
    calls++;
    if (calls === 2) throw new Error('boom');
  });
  assert.equal(calls, 3);
  assert.equal(successes, 2);
  assert.equal((error as Error).message, 'boom');
});

test('each call gets its own index, once', async () => {
  const seen: number[] = [];
  await slowStartBatch(7, 1, async (i) => {
    seen.push(i);
  });
  assert.deepEqual(seen.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
});
