/** @module The scheduling queue: ordering, backoff, requeue on cluster events, the 5-minute flush, gates. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Clock } from '../client/index.js';
import type { ClusterEvent } from './framework.js';
import { SchedulingQueue, type QueuedPodInfo } from './queue.js';
import { makePod } from './test-util.js';
import { newPodInfo } from './types.js';

/** A clock whose time moves only when told, firing due timers in order. */
class FakeClock implements Clock {
  t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

const pod = (name: string, priority = 0, created = '2025-01-01T00:00:00Z') => newPodInfo(makePod(name, { priority, creationTimestamp: created }));
const names = (q: SchedulingQueue) => {
  const out: string[] = [];
  for (let p = q.tryPop(); p; p = q.tryPop()) out.push(p.podInfo.name);
  return out;
};

function newQueue(events: Record<string, ClusterEvent[]> = {}) {
  const clock = new FakeClock();
  const queue = new SchedulingQueue({ clock, pluginEvents: new Map(Object.entries(events).map(([k, v]) => [k, new Set(v)])) });
  return { clock, queue };
}

describe('activeQ ordering', () => {
  test('higher priority first, then older creation time, then arrival', () => {
    const { queue } = newQueue();
    queue.add(pod('late-low', 0, '2025-01-01T00:00:05Z'));
    queue.add(pod('early-low', 0, '2025-01-01T00:00:01Z'));
    queue.add(pod('high', 1000, '2025-01-01T00:00:09Z'));
    queue.add(pod('same-time-a', 0, '2025-01-01T00:00:03Z'));
    queue.add(pod('same-time-b', 0, '2025-01-01T00:00:03Z'));
    assert.deepEqual(names(queue), ['high', 'early-low', 'same-time-a', 'same-time-b', 'late-low']);
  });

  test('pop waits for a pod; a pod is handed out once; deletes remove it', async () => {
    const { queue } = newQueue();
    const waiting = queue.pop();
    queue.add(pod('a'));
    queue.add(pod('a'));
    assert.equal((await waiting)?.podInfo.name, 'a');
    assert.equal(queue.tryPop(), undefined);
    queue.add(pod('b'));
    queue.delete('default/b');
    assert.equal(queue.tryPop(), undefined);
    queue.close();
    assert.equal(await queue.pop(), undefined);
  });
});

describe('backoff', () => {
  test('1 s after the first failure, doubling per attempt, at most 10 s', () => {
    const { queue } = newQueue();
    const q: Partial<QueuedPodInfo> = {};
    const d = (attempts: number) => queue.backoffDuration({ ...q, attempts } as QueuedPodInfo);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(d), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  test('a failed (error) pod waits out its backoff before it is active again', () => {
    const { queue, clock } = newQueue();
    queue.add(pod('p'));
    const q = queue.tryPop()!;
    queue.addUnschedulable(q, { rejected: false });
    assert.equal(queue.whereIs('default/p'), 'backoff');
    clock.advance(999);
    assert.equal(queue.tryPop(), undefined);
    clock.advance(1);
    const again = queue.tryPop()!;
    assert.equal(again.podInfo.name, 'p');
    assert.equal(again.attempts, 2);
    queue.addUnschedulable(again, { rejected: false });
    clock.advance(1999);
    assert.equal(queue.tryPop(), undefined);
    clock.advance(1);
    assert.equal(queue.tryPop()?.podInfo.name, 'p');
  });
});

describe('unschedulable pods', () => {
  test('wait for an event one of their rejecting plugins cares about', () => {
    const { queue, clock } = newQueue({ NodeResourcesFit: ['NodeAdd', 'AssignedPodDelete'], TaintToleration: ['NodeAdd', 'NodeUpdate'] });
    queue.add(pod('cpu'));
    queue.add(pod('taint'));
    const a = queue.tryPop()!;
    const b = queue.tryPop()!;
    queue.addUnschedulable(a, { rejected: true, unschedulablePlugins: new Set(['NodeResourcesFit']) });
    queue.addUnschedulable(b, { rejected: true, unschedulablePlugins: new Set(['TaintToleration']) });
    assert.deepEqual(queue.pending(), { active: 0, backoff: 0, unschedulable: 2, gated: 0 });
    clock.advance(5000);
    queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    assert.deepEqual(names(queue), ['cpu']);
    assert.equal(queue.whereIs('default/taint'), 'unschedulable');
  });

  test('a node add moves them back, to backoffQ while their backoff lasts', () => {
    const { queue, clock } = newQueue({ NodeResourcesFit: ['NodeAdd'] });
    queue.add(pod('p'));
    queue.addUnschedulable(queue.tryPop()!, { rejected: true, unschedulablePlugins: new Set(['NodeResourcesFit']) });
    clock.advance(300);
    queue.moveAllToActiveOrBackoff('NodeAdd');
    assert.equal(queue.whereIs('default/p'), 'backoff');
    clock.advance(700);
    assert.equal(queue.whereIs('default/p'), 'active');
  });

  test('a relevant event during the attempt sends the pod to backoff rather than to wait', () => {
    const { queue } = newQueue({ NodeResourcesFit: ['NodeAdd'] });
    queue.add(pod('p'));
    queue.add(pod('q'));
    const p = queue.tryPop()!;
    queue.moveAllToActiveOrBackoff('NodeAdd');
    queue.addUnschedulable(p, { rejected: true, unschedulablePlugins: new Set(['NodeResourcesFit']) });
    assert.equal(queue.whereIs('default/p'), 'backoff');
    // An event the rejecting plugin does not care about changes nothing.
    const q = queue.tryPop()!;
    queue.moveAllToActiveOrBackoff('AssignedPodAdd');
    queue.addUnschedulable(q, { rejected: true, unschedulablePlugins: new Set(['NodeResourcesFit']) });
    assert.equal(queue.whereIs('default/q'), 'unschedulable');
  });

  test('after 5 minutes they are tried again regardless', () => {
    const { queue, clock } = newQueue({ NodeResourcesFit: ['NodeAdd'] });
    queue.add(pod('p'));
    queue.addUnschedulable(queue.tryPop()!, { rejected: true, unschedulablePlugins: new Set(['NodeResourcesFit']) });
    clock.advance(4 * 60_000);
    assert.equal(queue.whereIs('default/p'), 'unschedulable');
    clock.advance(60_000 + 30_000);
    assert.equal(queue.whereIs('default/p'), 'active');
  });

  test('a spec change of an unschedulable pod retries it; a status-only change does not', () => {
    const { queue, clock } = newQueue({ NodeAffinity: ['NodeAdd'] });
    const p = makePod('p');
    queue.add(newPodInfo(p));
    queue.addUnschedulable(queue.tryPop()!, { rejected: true, unschedulablePlugins: new Set(['NodeAffinity']) });
    clock.advance(2000);
    queue.update(newPodInfo({ ...p, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } }));
    assert.equal(queue.whereIs('default/p'), 'unschedulable');
    queue.update(newPodInfo({ ...p, spec: { ...p.spec, tolerations: [{ operator: 'Exists' }] } }));
    assert.equal(queue.whereIs('default/p'), 'active');
  });

  test('a pod deleted while being scheduled is not requeued', () => {
    const { queue } = newQueue();
    queue.add(pod('p'));
    const q = queue.tryPop()!;
    queue.delete('default/p');
    queue.addUnschedulable(q, { rejected: true });
    assert.equal(queue.whereIs('default/p'), undefined);
  });
});

describe('scheduling gates', () => {
  test('gated pods wait apart until their gates are removed', () => {
    const { queue } = newQueue();
    const p = makePod('g', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    queue.add(newPodInfo(p));
    assert.deepEqual(queue.pending(), { active: 0, backoff: 0, unschedulable: 0, gated: 1 });
    queue.moveAllToActiveOrBackoff('NodeAdd');
    assert.equal(queue.tryPop(), undefined);
    queue.update(newPodInfo({ ...p, spec: { ...p.spec, schedulingGates: [] } }));
    assert.equal(queue.tryPop()?.podInfo.name, 'g');
  });
});
