/**
 * @module Pod rules: the deletion order of ActivePodsWithRanks, availability with
 * minReadySeconds, slow-start batches, pods from templates, and expectations.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { ControllerExpectations, expectationsTimeoutMs } from './expectations.js';
import { isPodActive, isPodAvailable, podFromTemplate, podsToDelete, slowStartBatch } from './pods.js';

const now = new Date('2025-03-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number; cost?: number } = {}): KObject {
  return {
    metadata: {
      name,
      uid: `uid-${name}`,
      creationTimestamp: ago(o.created ?? 3600),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } } : {}),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 3600) }],
      containerStatuses: [{ name: 'app', restartCount: o.restarts ?? 0 }],
    },
  };
}

const order = (pods: KObject[], related: KObject[] = pods) => podsToDelete(pods, related, pods.length - 1, now).map((p) => p.metadata!.name);

describe('deletion order', () => {
  test('unscheduled before scheduled', () => {
    assert.deepEqual(order([pod('a', { node: 'n1', ready: true }), pod('b', { phase: 'Pending' })]), ['b']);
  });
  test('Pending < Unknown < Running', () => {
    const pods = [pod('run', { node: 'n', phase: 'Running' }), pod('unk', { node: 'n', phase: 'Unknown' }), pod('pend', { node: 'n', phase: 'Pending' })];
    assert.deepEqual(podsToDelete(pods, pods, 2, now).map((p) => p.metadata!.name), ['pend', 'unk']);
  });
  test('not ready before ready', () => {
    assert.deepEqual(order([pod('ready', { node: 'n', ready: true }), pod('notready', { node: 'n', ready: false })]), ['notready']);
  });
  test('lower pod-deletion-cost first', () => {
    assert.deepEqual(order([pod('cheap', { node: 'n', ready: true, cost: -5 }), pod('dear', { node: 'n', ready: true, cost: 10 })].reverse()), ['cheap']);
  });
  test('pods doubled up on a node first', () => {
    const a = pod('alone', { node: 'n1', ready: true });
    const b = pod('crowded', { node: 'n2', ready: true });
    const sibling = pod('sibling', { node: 'n2', ready: true });
    assert.deepEqual(podsToDelete([a, b], [a, b, sibling], 1, now).map((p) => p.metadata!.name), ['crowded']);
  });
  test('ready more recently first, compared in log2 buckets', () => {
    assert.deepEqual(order([pod('old', { node: 'n', ready: true, readySince: 7200 }), pod('new', { node: 'n', ready: true, readySince: 60 })]), ['new']);
  });
  test('more restarts first', () => {
    assert.deepEqual(order([pod('calm', { node: 'n', ready: true, restarts: 0 }), pod('flappy', { node: 'n', ready: true, restarts: 4 })]), ['flappy']);
  });
  test('newer before older', () => {
    assert.deepEqual(order([pod('older', { node: 'n', created: 86400 }), pod('newer', { node: 'n', created: 10 })]), ['newer']);
  });
  test('all of them when every pod goes', () => {
    assert.equal(podsToDelete([pod('a'), pod('b')], [], 2, now).length, 2);
  });
});

describe('pod state', () => {
  test('active excludes terminal and terminating pods', () => {
    assert.equal(isPodActive(pod('a')), true);
    assert.equal(isPodActive(pod('b', { phase: 'Succeeded' })), false);
    assert.equal(isPodActive({ ...pod('c'), metadata: { name: 'c', deletionTimestamp: ago(0) } }), false);
  });
  test('available after minReadySeconds', () => {
    const p = pod('a', { ready: true, readySince: 5 });
    assert.equal(isPodAvailable(p, 0, now), true);
    assert.equal(isPodAvailable(p, 10, now), false);
    assert.equal(isPodAvailable(p, 4, now), true);
    assert.equal(isPodAvailable(pod('b', { ready: false }), 0, now), false);
  });
});

describe('slowStartBatch', () => {
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
});

test('podFromTemplate copies labels, annotations and finalizers and sets generateName', () => {
  const ref = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u', controller: true, blockOwnerDeletion: true };
  const p = podFromTemplate(
    { metadata: { labels: { app: 'web' }, annotations: { a: 'b' }, finalizers: ['x/y'] }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    { metadata: { name: 'web', namespace: 'ns' } },
    ref,
  );
  assert.deepEqual(p.metadata, { generateName: 'web-', namespace: 'ns', ownerReferences: [ref], labels: { app: 'web' }, annotations: { a: 'b' }, finalizers: ['x/y'] });
  assert.deepEqual(p.spec, { containers: [{ name: 'c', image: 'i' }] });
});

describe('expectations', () => {
  test('creations and tracked deletions, and expiry', () => {
    let t = 0;
    const e = new ControllerExpectations(() => t);
    assert.equal(e.satisfied('k'), true);
    e.expectCreations('k', 2);
    assert.equal(e.satisfied('k'), false);
    e.creationObserved('k');
    e.creationObserved('k');
    assert.equal(e.satisfied('k'), true);
    e.expectDeletions('k', ['ns/a', 'ns/b']);
    e.deletionObserved('k', 'ns/other');
    e.deletionObserved('k', 'ns/a');
    e.deletionObserved('k', 'ns/a');
    assert.deepEqual(e.get('k'), { add: 0, del: 1 });
    assert.equal(e.satisfied('k'), false);
    assert.equal(e.remainingMs('k'), expectationsTimeoutMs);
    t = expectationsTimeoutMs + 1;
    assert.equal(e.satisfied('k'), true);
  });
});
