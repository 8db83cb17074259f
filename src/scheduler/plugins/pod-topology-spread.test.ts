/** @module PodTopologySpread: maxSkew filter, missing labels, minDomains, scoring and system defaults. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterEach, makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { podTopologySpreadName } from './pod-topology-spread.js';

const zone = 'topology.kubernetes.io/zone';
const nodes = [
  makeNode('a1', { labels: { [zone]: 'a' } }),
  makeNode('a2', { labels: { [zone]: 'a' } }),
  makeNode('b1', { labels: { [zone]: 'b' } }),
  makeNode('c1', { labels: { [zone]: 'c' } }),
  makeNode('nolabel'),
];
const web = (name: string, nodeName?: string) => makePod(name, { labels: { app: 'web' }, nodeName });
const constraint = (extra: object = {}) => ({
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: zone, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } }, ...extra }],
});

describe('PodTopologySpread filter', () => {
  test('skew = pods in the domain + self − global minimum must not exceed maxSkew', () => {
    // a: 2 pods, b: 1, c: 0 → min 0; a would be 3, b 2, c 1.
    const { framework } = makeCluster(nodes, [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
    const got = filterEach(framework, podTopologySpreadName, makePod('new', { labels: { app: 'web' }, spec: constraint() }));
    assert.deepEqual(got, {
      a1: "Unschedulable: node(s) didn't match pod topology spread constraints",
      a2: "Unschedulable: node(s) didn't match pod topology spread constraints",
      b1: "Unschedulable: node(s) didn't match pod topology spread constraints",
      c1: '',
      nolabel: "UnschedulableAndUnresolvable: node(s) didn't match pod topology spread constraints (missing required label)",
    });
  });

  test('pods in other namespaces, terminating pods and non-matching pods do not count', () => {
    const other = makePod('o', { namespace: 'other', labels: { app: 'web' }, nodeName: 'a1' });
    const gone = web('g', 'a1');
    gone.metadata!.deletionTimestamp = '2025-01-01T00:00:00Z';
    const { framework } = makeCluster(nodes, [other, gone, makePod('db', { labels: { app: 'db' }, nodeName: 'a2' })]);
    const got = filterEach(framework, podTopologySpreadName, makePod('new', { labels: { app: 'web' }, spec: constraint() }));
    assert.equal(got.a1, '');
    assert.equal(got.b1, '');
  });

  test('a pod that does not match its own selector adds nothing for itself', () => {
    const { framework } = makeCluster(nodes, [web('w1', 'a1')]);
    // b and c hold 0, a holds 1: skew on a is 1 − 0 = 1 ≤ 1 when self does not match.
    const got = filterEach(framework, podTopologySpreadName, makePod('other', { labels: { app: 'other' }, spec: constraint() }));
    assert.equal(got.a1, '');
  });

  test('minDomains: fewer domains than asked makes the global minimum 0', () => {
    const { framework } = makeCluster(nodes, [web('w1', 'a1'), web('w2', 'b1'), web('w3', 'c1')]);
    const got = filterEach(framework, podTopologySpreadName, makePod('new', { labels: { app: 'web' }, spec: constraint({ minDomains: 4 }) }));
    // Every zone holds 1: 1 + 1 − 0 = 2 > 1 everywhere.
    assert.match(got.a1, /didn't match pod topology spread constraints$/);
    assert.match(got.c1, /didn't match pod topology spread constraints$/);
  });

  test('nodes the pod cannot go to (node affinity) are not domains', () => {
    const { framework } = makeCluster(nodes, [web('w1', 'a1')]);
    const spec = { ...constraint(), nodeSelector: { [zone]: 'a' } };
    // Only zone a counts: min is 1 there, so a1 with 1 + 1 − 1 = 1 fits.
    assert.equal(filterEach(framework, podTopologySpreadName, makePod('new', { labels: { app: 'web' }, spec })).a1, '');
  });
});

describe('PodTopologySpread score', () => {
  test('ScheduleAnyway: fewer matching pods in the domain scores higher', () => {
    const { framework } = makeCluster(nodes.slice(0, 4), [web('w1', 'a1'), web('w2', 'a2'), web('w3', 'b1')]);
    const scores = scoreEach(framework, podTopologySpreadName, makePod('new', { labels: { app: 'web' }, spec: constraint({ whenUnsatisfiable: 'ScheduleAnyway' }) }));
    assert.ok(scores.c1 > scores.b1 && scores.b1 > scores.a1, JSON.stringify(scores));
    assert.equal(scores.c1, 100);
  });

  test('system defaults spread one controller’s pods over hostnames', () => {
    const rs = (name: string, nodeName: string) => makePod(name, { owner: 'rs1', nodeName });
    const { framework } = makeCluster([makeNode('n1'), makeNode('n2'), makeNode('n3')], [rs('r1', 'n1'), rs('r2', 'n1'), rs('r3', 'n2'), makePod('foreign', { owner: 'rs2', nodeName: 'n3' })]);
    const scores = scoreEach(framework, podTopologySpreadName, makePod('r4', { owner: 'rs1' }));
    assert.ok(scores.n3 > scores.n2 && scores.n2 > scores.n1, JSON.stringify(scores));
  });

  test('pods without constraints or a controller are not scored', () => {
    const { framework } = makeCluster([makeNode('n1'), makeNode('n2')]);
    assert.deepEqual(scoreEach(framework, podTopologySpreadName, makePod('bare')), { n1: 0, n2: 0 });
  });
});
