/** @module The HPA's replica arithmetic: tolerance, missing and unready pods, requests, metrics lists; behavior limits. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { convertDesiredReplicasWithRules, scaleDownLimit, scaleUpLimit } from './behavior.js';
import { calculatePodRequests, groupPods, podMetricsFromList, rawResourceReplicas, resourceReplicas, type PodMetricsInfo } from './replica-calculator.js';

const now = Date.parse('2025-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const opts = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000, now };

function pod(name: string, o: { phase?: string; ready?: boolean; startedAgoMs?: number; readySinceAgoMs?: number; request?: string; deleting?: boolean } = {}): KObject {
  const start = now - (o.startedAgoMs ?? 600_000);
  return {
    metadata: { name, ...(o.deleting ? { deletionTimestamp: iso(now) } : {}) },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: o.request ?? '100m' } } }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(start),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: iso(now - (o.readySinceAgoMs ?? 590_000)) }],
    },
  };
}

const metrics = (m: Record<string, number>): PodMetricsInfo => new Map(Object.entries(m).map(([k, v]) => [k, { timestamp: now, windowMs: 15_000, value: v }]));

describe('resourceReplicas', () => {
  test('ratio times ready pods, rounded up; within tolerance keeps the count', () => {
    assert.equal(resourceReplicas(2, 50, 'cpu', metrics({ a: 90, b: 90 }), [pod('a'), pod('b')], opts).replicas, 4);
    const r = resourceReplicas(2, 50, 'cpu', metrics({ a: 54, b: 54 }), [pod('a'), pod('b')], opts);
    assert.deepEqual(r, { replicas: 2, utilization: 54, rawAverage: 54 });
  });

  test('missing pods count as at 100% of request when scaling down', () => {
    // a uses 10% with target 50%: alone it would say 1; b (no metrics) is assumed at 100%.
    const r = resourceReplicas(2, 50, 'cpu', metrics({ a: 10 }), [pod('a'), pod('b')], opts);
    // Then 55% against 50%: the direction flipped, so nothing changes.
    assert.equal(r.replicas, 2);
    assert.equal(r.utilization, 10);
  });

  test('missing pods count as idle when scaling up', () => {
    // a at 200%: ratio 4; with b at 0 the ratio is 2 → ceil(2×2) = 4.
    assert.equal(resourceReplicas(2, 50, 'cpu', metrics({ a: 200 }), [pod('a'), pod('b')], opts).replicas, 4);
  });

  test('unready pods count as idle when scaling up and are ignored otherwise', () => {
    const pods = [pod('a'), pod('b', { ready: false, startedAgoMs: 60_000, readySinceAgoMs: 50_000 })];
    assert.equal(resourceReplicas(2, 50, 'cpu', metrics({ a: 200, b: 200 }), pods, opts).replicas, 4);
    assert.equal(resourceReplicas(2, 50, 'cpu', metrics({ a: 10, b: 200 }), pods, opts).replicas, 1);
  });

  test('errors name what is missing', () => {
    assert.throws(() => resourceReplicas(1, 50, 'cpu', metrics({}), [], opts), /no pods returned by selector while calculating replica count/);
    assert.throws(() => resourceReplicas(1, 50, 'cpu', metrics({ a: 1 }), [pod('a', { phase: 'Pending' })], opts), /did not receive metrics for targeted pods \(pods might be unready\)/);
    assert.throws(() => calculatePodRequests([{ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } }], 'cpu'), /missing request for cpu in container c of Pod p/);
  });

  test('average value targets', () => {
    assert.deepEqual(rawResourceReplicas(2, 100, 'cpu', metrics({ a: 300, b: 300 }), [pod('a'), pod('b')], opts), { replicas: 6, rawAverage: 300 });
  });
});

describe('groupPods', () => {
  test('deleted and failed pods are ignored, pending unready, unreported missing', () => {
    const g = groupPods([pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' }), pod('d', { phase: 'Pending' }), pod('e')], metrics({ a: 1, b: 1, c: 1, d: 1 }), 'cpu', 300_000, 30_000, now);
    assert.equal(g.readyPodCount, 1);
    assert.deepEqual([...g.ignoredPods], ['b', 'c']);
    assert.deepEqual([...g.unreadyPods], ['d']);
    assert.deepEqual([...g.missingPods], ['e']);
  });

  test('inside the CPU initialization period a reading older than one window after becoming ready is unready', () => {
    const fresh = pod('a', { startedAgoMs: 20_000, readySinceAgoMs: 5_000 });
    assert.equal(groupPods([fresh], metrics({ a: 1 }), 'cpu', 300_000, 30_000, now).unreadyPods.size, 1);
    const settled = pod('a', { startedAgoMs: 100_000, readySinceAgoMs: 60_000 });
    assert.equal(groupPods([settled], metrics({ a: 1 }), 'cpu', 300_000, 30_000, now).readyPodCount, 1);
  });
});

describe('podMetricsFromList', () => {
  test('sums containers in milli-units and drops pods missing a value', () => {
    const { metrics: m } = podMetricsFromList(
      {
        items: [
          { metadata: { name: 'a' }, timestamp: iso(now), window: '15.5s', containers: [{ name: 'x', usage: { cpu: '250000000n', memory: '1Ki' } }, { name: 'y', usage: { cpu: '5m', memory: '1Ki' } }] },
          { metadata: { name: 'b' }, timestamp: iso(now), window: '15s', containers: [{ name: 'x', usage: { memory: '1Ki' } }] },
        ],
      },
      'cpu',
    );
    assert.deepEqual([...m.keys()], ['a']);
    assert.equal(m.get('a')!.value, 255);
    assert.equal(m.get('a')!.windowMs, 15_500);
    assert.throws(() => podMetricsFromList({ items: [] }, 'cpu'), /no metrics returned from resource metrics API/);
  });
});

describe('behavior limits', () => {
  const ev = (change: number, agoMs: number) => ({ replicaChange: change, timestamp: now - agoMs, outdated: false });
  test('scale-up policies: Max picks the larger, events in the period count against it', () => {
    const rules = { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
    assert.equal(scaleUpLimit(10, [], [], rules, now), 20);
    assert.equal(scaleUpLimit(10, [ev(5, 5_000)], [], rules, now), 10);
    assert.equal(scaleUpLimit(10, [], [], { ...rules, selectPolicy: 'Min' }, now), 14);
    assert.equal(scaleUpLimit(10, [], [], { ...rules, selectPolicy: 'Disabled' }, now), 10);
  });
  test('scale-down policies: Percent truncates', () => {
    assert.equal(scaleDownLimit(10, [], [], { policies: [{ type: 'Percent', value: 15, periodSeconds: 60 }] }, now), 8);
    assert.equal(scaleDownLimit(10, [], [ev(2, 30_000)], { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] }, now), 10);
  });
  test('without behavior: min, max and the default rate', () => {
    assert.deepEqual(convertDesiredReplicasWithRules(1, 10, 1, 10), { replicas: 4, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
    assert.equal(convertDesiredReplicasWithRules(3, 0, 2, 10).reason, 'TooFewReplicas');
  });
});
