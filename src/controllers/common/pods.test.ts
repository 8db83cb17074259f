/** @module Pod rules: active, terminating and available pods, the ActivePods removal order, and pods from templates. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { compareActivePods, isPodActive, isPodAvailable, isPodTerminating, podFromTemplate } from './pods.js';

const now = new Date('2025-03-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(name: string, o: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number | null; restarts?: number[] } = {}): KObject {
  return {
    metadata: { name, uid: `uid-${name}`, ...(o.created === null ? {} : { creationTimestamp: ago(o.created ?? 3600) }) },
    spec: { ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 3600) }],
      containerStatuses: (o.restarts ?? [0]).map((n, i) => ({ name: `c${i}`, restartCount: n })),
    },
  };
}

const first = (...pods: KObject[]) => [...pods].sort(compareActivePods)[0].metadata!.name;

describe('pod state', () => {
  test('active excludes terminal and terminating pods', () => {
    assert.equal(isPodActive(pod('a')), true);
    assert.equal(isPodActive(pod('b', { phase: 'Succeeded' })), false);
    assert.equal(isPodActive({ ...pod('c'), metadata: { name: 'c', deletionTimestamp: ago(0) } }), false);
  });
  test('terminating: being deleted, not finished', () => {
    assert.equal(isPodTerminating({ ...pod('a'), metadata: { name: 'a', deletionTimestamp: ago(0) } }), true);
    assert.equal(isPodTerminating({ ...pod('b', { phase: 'Failed' }), metadata: { name: 'b', deletionTimestamp: ago(0) } }), false);
    assert.equal(isPodTerminating(pod('c')), false);
  });
  test('available after minReadySeconds', () => {
    const p = pod('a', { ready: true, readySince: 5 });
    assert.equal(isPodAvailable(p, 0, now.getTime()), true);
    assert.equal(isPodAvailable(p, 10, now.getTime()), false);
    assert.equal(isPodAvailable(p, 4, now.getTime()), true);
    assert.equal(isPodAvailable(pod('b', { ready: false }), 0, now.getTime()), false);
  });
});

describe('ActivePods removal order', () => {
  test('unscheduled, then Pending < Unknown < Running, then not ready', () => {
    assert.equal(first(pod('a', { node: 'n', ready: true }), pod('b', { phase: 'Pending' })), 'b');
    assert.equal(first(pod('run', { node: 'n' }), pod('unk', { node: 'n', phase: 'Unknown' })), 'unk');
    assert.equal(first(pod('ready', { node: 'n', ready: true }), pod('notready', { node: 'n', ready: false })), 'notready');
  });
  test('ready more recently first, compared exactly', () => {
    assert.equal(first(pod('old', { node: 'n', ready: true, readySince: 100 }), pod('new', { node: 'n', ready: true, readySince: 99 })), 'new');
  });
  test('the highest restart count of one container counts, not the sum', () => {
    assert.equal(first(pod('spread', { node: 'n', restarts: [2, 2] }), pod('peak', { node: 'n', restarts: [3, 0] })), 'peak');
  });
  test('newer before older, and a missing creation time first', () => {
    assert.equal(first(pod('older', { node: 'n', created: 86400 }), pod('newer', { node: 'n', created: 10 })), 'newer');
    assert.equal(first(pod('newer', { node: 'n', created: 10 }), pod('unknown', { node: 'n', created: null })), 'unknown');
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

test('podFromTemplate leaves out empty labels and annotations', () => {
  const ref = { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'u', controller: true, blockOwnerDeletion: true };
  const p = podFromTemplate({ metadata: { labels: {}, annotations: {} }, spec: {} }, { metadata: { name: 'pi', namespace: 'ns' } }, ref);
  assert.deepEqual(p.metadata, { generateName: 'pi-', namespace: 'ns', ownerReferences: [ref] });
});
