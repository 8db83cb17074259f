/**
 * @module getPodsToDelete: the deletion order of ActivePodsWithRanks (pod-deletion-cost,
 * co-located pods, log2 age buckets).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { podsToDelete } from './pods.js';

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
