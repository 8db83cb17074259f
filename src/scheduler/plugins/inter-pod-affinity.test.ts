/** @module InterPodAffinity: required affinity / anti-affinity by topology, existing pods' anti-affinity, preferred scores. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterEach, makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { interPodAffinityName } from './inter-pod-affinity.js';

const zone = 'topology.kubernetes.io/zone';
const host = 'kubernetes.io/hostname';
const nodes = [makeNode('a1', { labels: { [zone]: 'a' } }), makeNode('a2', { labels: { [zone]: 'a' } }), makeNode('b1', { labels: { [zone]: 'b' } }), makeNode('nozone')];
const term = (app: string, topologyKey: string, extra: object = {}) => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });
const affinity = (kind: 'podAffinity' | 'podAntiAffinity', terms: object[]) => ({ affinity: { [kind]: { requiredDuringSchedulingIgnoredDuringExecution: terms } } });

describe('InterPodAffinity filter', () => {
  test('required affinity: a matching pod in the node’s zone', () => {
    const { framework } = makeCluster(nodes, [makePod('db', { labels: { app: 'db' }, nodeName: 'a2' })]);
    const got = filterEach(framework, interPodAffinityName, makePod('web', { spec: affinity('podAffinity', [term('db', zone)]) }));
    assert.deepEqual(got, {
      a1: '',
      a2: '',
      b1: "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules",
      nozone: "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules",
    });
  });

  test('the first pod of a self-affine group may go anywhere with the topology key', () => {
    const { framework } = makeCluster(nodes);
    const got = filterEach(framework, interPodAffinityName, makePod('first', { labels: { app: 'cache' }, spec: affinity('podAffinity', [term('cache', zone)]) }));
    assert.deepEqual(got, { a1: '', a2: '', b1: '', nozone: "UnschedulableAndUnresolvable: node(s) didn't match pod affinity rules" });
  });

  test('affinity looks only in the term’s namespaces (the pod’s own by default)', () => {
    const { framework } = makeCluster(nodes, [makePod('db', { namespace: 'data', labels: { app: 'db' }, nodeName: 'a1' })]);
    const mine = filterEach(framework, interPodAffinityName, makePod('web', { spec: affinity('podAffinity', [term('db', zone)]) }));
    assert.match(mine.a1, /didn't match pod affinity rules/);
    const named = filterEach(framework, interPodAffinityName, makePod('web', { spec: affinity('podAffinity', [term('db', zone, { namespaces: ['data'] })]) }));
    assert.equal(named.a1, '');
  });

  test('namespaceSelector selects namespaces by their labels', () => {
    const { framework } = makeCluster(nodes, [makePod('db', { namespace: 'data', labels: { app: 'db' }, nodeName: 'b1' })], { namespaces: { data: { team: 'x' }, default: {} } });
    const got = filterEach(framework, interPodAffinityName, makePod('web', { spec: affinity('podAffinity', [term('db', zone, { namespaceSelector: { matchLabels: { team: 'x' } } })]) }));
    assert.equal(got.b1, '');
    assert.match(got.a1, /didn't match pod affinity rules/);
  });

  test('required anti-affinity: no matching pod in the node’s domain', () => {
    const { framework } = makeCluster(nodes, [makePod('w1', { labels: { app: 'web' }, nodeName: 'a1' })]);
    const got = filterEach(framework, interPodAffinityName, makePod('w2', { labels: { app: 'web' }, spec: affinity('podAntiAffinity', [term('web', host)]) }));
    assert.deepEqual(got, { a1: "Unschedulable: node(s) didn't match pod anti-affinity rules", a2: '', b1: '', nozone: '' });
  });

  test('existing pods’ required anti-affinity keeps matching pods out of their domain', () => {
    const loner = makePod('loner', { labels: { app: 'loner' }, nodeName: 'b1', spec: affinity('podAntiAffinity', [term('web', zone)]) });
    const { framework } = makeCluster(nodes, [loner]);
    const got = filterEach(framework, interPodAffinityName, makePod('w', { labels: { app: 'web' } }));
    assert.deepEqual(got, { a1: '', a2: '', b1: "Unschedulable: node(s) didn't satisfy existing pods anti-affinity rules", nozone: '' });
    assert.deepEqual(filterEach(framework, interPodAffinityName, makePod('x', { labels: { app: 'x' } })), { a1: '', a2: '', b1: '', nozone: '' });
  });
});

describe('InterPodAffinity score', () => {
  test('preferred affinity and anti-affinity weights per domain, normalized', () => {
    const { framework } = makeCluster(nodes, [makePod('db', { labels: { app: 'db' }, nodeName: 'a1' }), makePod('noisy', { labels: { app: 'noisy' }, nodeName: 'b1' })]);
    const spec = {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term('db', zone) }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term('noisy', zone) }] },
      },
    };
    // a: +50, b: −50, nozone: 0 → normalized over [−50, 50].
    assert.deepEqual(scoreEach(framework, interPodAffinityName, makePod('web', { spec })), { a1: 100, a2: 100, b1: 0, nozone: 50 });
  });

  test('existing pods’ required affinity towards the incoming pod attracts it', () => {
    const fan = makePod('fan', { labels: { app: 'fan' }, nodeName: 'b1', spec: affinity('podAffinity', [term('star', zone)]) });
    const { framework } = makeCluster(nodes, [fan]);
    assert.deepEqual(scoreEach(framework, interPodAffinityName, makePod('star', { labels: { app: 'star' } })), { a1: 0, a2: 0, b1: 100, nozone: 0 });
  });
});
