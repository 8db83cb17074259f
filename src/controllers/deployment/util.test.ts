/**
 * @module Deployment rules without I/O: template equality ignoring the hash, fenceposts and their rounding, revision
 * annotations and history, conditions, proportions and status.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import {
  calculateStatus,
  copyDeploymentAnnotationsToReplicaSet,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  lastRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  proportion,
  resolveFenceposts,
  scaledValue,
  setCondition,
  setNewReplicaSetAnnotations,
} from './util.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const now = new Date('2025-03-01T12:00:00Z');
const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } });
const deploy = (replicas: number, ru: KObject | null = { maxSurge: '25%', maxUnavailable: '25%' }, extra: KObject = {}): Loose => ({
  metadata: { name: 'web', generation: 1, annotations: {} },
  spec: { replicas, strategy: ru ? { type: 'RollingUpdate', rollingUpdate: ru } : { type: 'Recreate' }, template: template('v1'), progressDeadlineSeconds: 600, ...extra },
  status: {},
});
const rs = (name: string, replicas: number, o: { available?: number; revision?: string; created?: string; image?: string; maxReplicas?: number } = {}): KObject => ({
  metadata: {
    name,
    uid: `uid-${name}`,
    creationTimestamp: o.created ?? '2025-03-01T10:00:00Z',
    annotations: { ...(o.revision ? { 'deployment.kubernetes.io/revision': o.revision } : {}), ...(o.maxReplicas !== undefined ? { 'deployment.kubernetes.io/max-replicas': String(o.maxReplicas) } : {}) },
  },
  spec: { replicas, template: template(o.image ?? 'v1') },
  status: { replicas, availableReplicas: o.available ?? replicas, readyReplicas: o.available ?? replicas },
});

describe('pod-template-hash', () => {
  test('equalIgnoreHash ignores the pod-template-hash label only', () => {
    const withHash = template('v1');
    (withHash.metadata.labels as Record<string, string>)['pod-template-hash'] = 'abc';
    assert.equal(equalIgnoreHash(withHash, template('v1')), true);
    assert.equal(equalIgnoreHash(withHash, template('v2')), false);
  });
});

describe('fenceposts', () => {
  test('percentages: surge rounds up, unavailable down', () => {
    assert.equal(scaledValue('25%', 3, true), 1);
    assert.equal(scaledValue('25%', 3, false), 0);
    assert.equal(scaledValue('25%', 10, true), 3);
    assert.equal(scaledValue('25%', 10, false), 2);
    assert.equal(scaledValue(2, 10, false), 2);
    assert.throws(() => scaledValue('3', 10, true), /not a percentage/);
  });
  test('both zero makes unavailable 1', () => {
    assert.deepEqual(resolveFenceposts('10%', '10%', 3), [1, 0]);
    assert.deepEqual(resolveFenceposts(0, '10%', 3), [0, 1]);
  });
  test('maxUnavailable is capped by replicas and zero for Recreate', () => {
    assert.equal(maxUnavailable(deploy(2, { maxSurge: 0, maxUnavailable: 5 })), 2);
    assert.equal(maxUnavailable(deploy(4, null)), 0);
    assert.equal(maxSurge(deploy(4, null)), 0);
    assert.equal(maxSurge(deploy(4)), 1);
  });
});

describe('new ReplicaSet size', () => {
  test('rolling: up to replicas + maxSurge in total', () => {
    const d = deploy(4, { maxSurge: 1, maxUnavailable: 1 });
    const old = rs('old', 4);
    const fresh = rs('new', 0);
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
    assert.equal(newRSNewReplicas(d, [rs('old', 5), fresh], fresh), 0);
    assert.equal(newRSNewReplicas(d, [rs('old', 0), rs('new', 2)], rs('new', 2)), 4);
  });
  test('recreate: the full count', () => {
    assert.equal(newRSNewReplicas(deploy(3, null), [rs('new', 0)], rs('new', 0)), 3);
  });
});

describe('revision annotations', () => {
  test('a created ReplicaSet gets revision, replicas annotations and the change-cause', () => {
    const d = deploy(3);
    d.metadata.annotations = { 'kubernetes.io/change-cause': 'kubectl set image', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '1' };
    const r: Loose = { metadata: {} };
    assert.equal(setNewReplicaSetAnnotations(d, r, '2', false), true);
    assert.deepEqual(r.metadata.annotations, {
      'kubernetes.io/change-cause': 'kubectl set image',
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/desired-replicas': '3',
      'deployment.kubernetes.io/max-replicas': '4',
    });
  });
  test('an old ReplicaSet becoming new again moves up and keeps its history', () => {
    const d = deploy(3);
    const r: Loose = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } } };
    setNewReplicaSetAnnotations(d, r, '3', true);
    assert.equal(r.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    assert.equal(r.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
    setNewReplicaSetAnnotations(d, r, '5', true);
    assert.equal(r.metadata.annotations['deployment.kubernetes.io/revision-history'], '1,3');
    assert.equal(setNewReplicaSetAnnotations(d, r, '5', true), false, 'same revision: nothing to do');
  });
  test('history is capped by length, oldest dropped', () => {
    const r: Loose = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '9', 'deployment.kubernetes.io/revision-history': '1,3,5,7' } } };
    setNewReplicaSetAnnotations(deploy(1), r, '10', true, 6);
    assert.equal(r.metadata.annotations['deployment.kubernetes.io/revision-history'], '5,7,9');
  });
  test('copying skips the controller-owned annotations and reports changes', () => {
    const d = deploy(1);
    d.metadata.annotations = { a: '1', 'deployment.kubernetes.io/desired-replicas': '9' };
    const r: Loose = { metadata: { annotations: { a: '1' } } };
    assert.equal(copyDeploymentAnnotationsToReplicaSet(d, r), false);
    d.metadata.annotations.a = '2';
    assert.equal(copyDeploymentAnnotationsToReplicaSet(d, r), true);
    assert.deepEqual(r.metadata.annotations, { a: '2' });
  });
  test('lastRevision is the second highest', () => {
    assert.equal(lastRevision([rs('a', 0, { revision: '1' }), rs('b', 0, { revision: '4' }), rs('c', 0, { revision: '3' })]), 3);
  });
});

describe('ReplicaSet sets', () => {
  test('the new ReplicaSet is the oldest with the same template', () => {
    const d = deploy(1);
    const found = findNewReplicaSet(d, [rs('b', 1, { created: '2025-03-01T11:00:00Z' }), rs('a', 1, { created: '2025-03-01T10:00:00Z' }), rs('c', 1, { image: 'v2' })]);
    assert.equal(found?.metadata?.name, 'a');
  });
  test('findActiveOrLatest', () => {
    assert.equal(findActiveOrLatest(rs('new', 0), [rs('old', 2)])?.metadata?.name, 'old');
    assert.equal(findActiveOrLatest(rs('new', 1), [rs('old', 2)]), undefined);
    assert.equal(findActiveOrLatest(rs('new', 0), [rs('old', 0)])?.metadata?.name, 'new');
  });
});

describe('proportional scaling', () => {
  test('the documented example: 10 → 15 mid-rollout gives 3 to the old and 2 to the new ReplicaSet', () => {
    // replicas 10, maxSurge 3: old has 8, new has 5 (13 = 10 + 3); both sized when max was 13.
    const d = deploy(15, { maxSurge: 3, maxUnavailable: 2 });
    d.status = { replicas: 13 };
    const old = rs('old', 8, { maxReplicas: 13 });
    const fresh = rs('new', 5, { maxReplicas: 13 });
    const toAdd = 15 + 3 - 13;
    const pOld = proportion(old, d, toAdd, 0);
    const pNew = proportion(fresh, d, toAdd, pOld);
    assert.equal(pOld, 3);
    assert.equal(pNew, 2);
  });
});

describe('conditions', () => {
  test('same status and reason: untouched; same status, new reason: keeps lastTransitionTime', () => {
    const status: KObject = {};
    setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'a', now));
    const later = new Date(now.getTime() + 60_000);
    setCondition(status, newCondition('Progressing', 'True', 'NewReplicaSetCreated', 'b', later));
    assert.equal(status.conditions[0].message, 'a');
    setCondition(status, newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'c', later));
    assert.equal(status.conditions[0].lastTransitionTime, '2025-03-01T12:00:00Z');
    assert.equal(status.conditions[0].lastUpdateTime, '2025-03-01T12:01:00Z');
    setCondition(status, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'd', later));
    setCondition(status, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', 'e', later));
    assert.deepEqual(status.conditions.map((c: KObject) => c.type), ['Available', 'Progressing']);
  });
  test('timed out after progressDeadlineSeconds without an update', () => {
    const d = deploy(1, undefined, { progressDeadlineSeconds: 10 });
    const status = { conditions: [newCondition('Progressing', 'True', 'ReplicaSetUpdated', 'x', now)] };
    assert.equal(deploymentTimedOut(d, status, new Date(now.getTime() + 10_000)), false);
    assert.equal(deploymentTimedOut(d, status, new Date(now.getTime() + 11_000)), true);
  });
});

test('calculateStatus counts over ReplicaSets and sets Available', () => {
  const d = deploy(4, { maxSurge: 1, maxUnavailable: 1 });
  const old = rs('old', 2, { available: 2 });
  const fresh = rs('new', 3, { available: 1 });
  const s = calculateStatus([old, fresh], fresh, d, now);
  assert.equal(s.replicas, 5);
  assert.equal(s.updatedReplicas, 3);
  assert.equal(s.availableReplicas, 3);
  assert.equal(s.unavailableReplicas, 2);
  assert.equal(s.observedGeneration, 1);
  assert.equal(s.conditions[0].reason, 'MinimumReplicasAvailable');
  const low = calculateStatus([rs('new', 4, { available: 2 })], undefined, d, now);
  assert.equal(low.conditions[0].reason, 'MinimumReplicasUnavailable');
  assert.equal(low.conditions[0].status, 'False');
});
