/** @module NodeShouldRunDaemonPod: selectors, affinity operators, taints and the daemon tolerations. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { addDaemonPodTolerations, nodeShouldRunDaemonPod, podFitsNodeAffinity, targetNodeName, toleratesTaint } from './node-eligibility.js';

const node = (name: string, labels: Record<string, string> = {}, taints: KObject[] = []): KObject => ({ metadata: { name, labels }, spec: { taints } });
const ds = (podSpec: KObject = {}): KObject => ({ spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }], ...podSpec } } } });

describe('node eligibility', () => {
  test('untainted nodes run the pod; NoSchedule taints block new pods but keep running ones; NoExecute evicts', () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node('a'), ds()), { shouldRun: true, shouldContinueRunning: true });
    const gpu = node('b', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    assert.deepEqual(nodeShouldRunDaemonPod(gpu, ds()), { shouldRun: false, shouldContinueRunning: true });
    const evict = node('c', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoExecute' }]);
    assert.deepEqual(nodeShouldRunDaemonPod(evict, ds()), { shouldRun: false, shouldContinueRunning: false });
    const tolerant = ds({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] });
    assert.deepEqual(nodeShouldRunDaemonPod(evict, tolerant), { shouldRun: true, shouldContinueRunning: true });
    const wrongValue = ds({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoExecute' }] });
    assert.equal(nodeShouldRunDaemonPod(evict, wrongValue).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('d', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), ds()).shouldRun, true, 'PreferNoSchedule does not count');
  });

  test('the standard daemon tolerations cover not-ready, unreachable, pressure and unschedulable nodes', () => {
    for (const [key, effect] of [
      ['node.kubernetes.io/not-ready', 'NoExecute'],
      ['node.kubernetes.io/unreachable', 'NoExecute'],
      ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
      ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
      ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
      ['node.kubernetes.io/unschedulable', 'NoSchedule'],
    ])
      assert.equal(nodeShouldRunDaemonPod(node('n', {}, [{ key, effect }]), ds()).shouldRun, true, key);
    assert.equal(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds()).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node('n', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds({ hostNetwork: true })).shouldRun, true);
    const spec: KObject = { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] };
    addDaemonPodTolerations(spec);
    assert.equal(spec.tolerations.length, 6);
    assert.equal(spec.tolerations[0].tolerationSeconds, undefined, 'replaced by the unbounded daemon toleration');
  });

  test('nodeSelector, node affinity operators and matchFields', () => {
    const n = node('worker-1', { zone: 'a', cpus: '8', gpu: 'true' });
    assert.equal(podFitsNodeAffinity({ nodeSelector: { zone: 'a' } }, n), true);
    assert.equal(podFitsNodeAffinity({ nodeSelector: { zone: 'b' } }, n), false);
    const req = (terms: KObject[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
    assert.equal(podFitsNodeAffinity(req([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'c'] }] }]), n), true);
    assert.equal(podFitsNodeAffinity(req([{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }]), n), false);
    assert.equal(podFitsNodeAffinity(req([{ matchExpressions: [{ key: 'ssd', operator: 'DoesNotExist' }] }]), n), true);
    assert.equal(podFitsNodeAffinity(req([{ matchExpressions: [{ key: 'cpus', operator: 'Gt', values: ['4'] }] }]), n), true);
    assert.equal(podFitsNodeAffinity(req([{ matchExpressions: [{ key: 'cpus', operator: 'Lt', values: ['4'] }] }]), n), false);
    assert.equal(podFitsNodeAffinity(req([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-1'] }] }]), n), true);
    assert.equal(podFitsNodeAffinity(req([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-2'] }] }, { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }]), n), true, 'terms are ORed');
    assert.equal(podFitsNodeAffinity(req([{}]), n), false, 'an empty term matches nothing');
    assert.equal(nodeShouldRunDaemonPod(n, ds({ nodeName: 'worker-2' })).shouldRun, false);
  });

  test('toleration matching and target node names', () => {
    assert.equal(toleratesTaint({ operator: 'Exists' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), true);
    assert.equal(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, { key: 'k', effect: 'NoSchedule' }), false);
    assert.equal(toleratesTaint({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), true);
    assert.equal(targetNodeName({ spec: { nodeName: 'x' } }), 'x');
    assert.equal(targetNodeName({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['y'] }] }] } } } } }), 'y');
    assert.equal(targetNodeName({ spec: {} }), undefined);
  });
});
