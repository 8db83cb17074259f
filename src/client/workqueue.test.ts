import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, runWorkers, type Clock } from './workqueue.js';

/** A clock whose timers fire only when advanced. */
function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; id: number }> = [];
  let id = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const t = { at: now + ms, fn, id: id++ };
      timers.push(t);
      return t;
    },
    clearTimeout: (h) => {
      const i = timers.indexOf(h as (typeof timers)[number]);
      if (i >= 0) timers.splice(i, 1);
    },
    advance(ms) {
      now += ms;
      for (const t of timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    },
  };
}

test('a key waits once however often it is added', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
});

test('a key being processed is not handed out again until done, then comes back once', async () => {
  const q = new WorkQueue();
  q.add('a');
  const k = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'not queued while processing');
  q.done(k!);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'a');
});

test('failed keys come back with exponential backoff; forget resets it', async () => {
  const clock = fakeClock();
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 35, clock });
  q.addRateLimited('a');
  q.addRateLimited('x');
  assert.equal(q.len(), 0);
  clock.advance(10);
  assert.equal(q.len(), 2);
  await q.get();
  await q.get();
  q.done('a');
  q.done('x');
  q.addRateLimited('a');
  clock.advance(19);
  assert.equal(q.len(), 0, 'second failure waits 20 ms');
  clock.advance(1);
  assert.equal(q.len(), 1);
  await q.get();
  q.done('a');
  q.addRateLimited('a');
  q.addRateLimited('a');
  assert.equal(q.numRequeues('a'), 4);
  clock.advance(35);
  assert.equal(q.len(), 1, 'capped at maxDelayMs');
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
});

test('runWorkers syncs each key, retries failures and stops on abort', async () => {
  const q = new WorkQueue({ baseDelayMs: 1 });
  const ac = new AbortController();
  const seen: string[] = [];
  let failOnce = true;
  let concurrentOnKey = 0;
  let maxConcurrent = 0;
  const done = runWorkers(
    q,
    3,
    async (key) => {
      if (key === 'k') {
        concurrentOnKey++;
        maxConcurrent = Math.max(maxConcurrent, concurrentOnKey);
        await new Promise((r) => setTimeout(r, 5));
        concurrentOnKey--;
      }
      seen.push(key);
      if (key === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('boom');
      }
    },
    ac.signal,
  );
  q.add('k');
  q.add('flaky');
  await new Promise((r) => setTimeout(r, 1));
  q.add('k');
  const deadline = Date.now() + 2000;
  while (seen.filter((s) => s === 'flaky').length < 2 || seen.filter((s) => s === 'k').length < 2) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  ac.abort();
  await done;
  assert.equal(seen.filter((s) => s === 'flaky').length, 2, 'failed key retried');
  assert.equal(seen.filter((s) => s === 'k').length, 2, 're-added key synced again');
  assert.equal(maxConcurrent, 1, 'never two syncs of one key at once');
});
