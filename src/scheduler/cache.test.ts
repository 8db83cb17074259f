/** @module The scheduler cache: node totals, assumed pods confirmed or forgotten, indexes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SchedulerCache } from './cache.js';
import { makeNode, makePod } from './test-util.js';
import { newPodInfo } from './types.js';

describe('SchedulerCache', () => {
  test('an assumed pod counts on its node at once and is forgotten if binding fails', () => {
    const cache = new SchedulerCache();
    cache.setNode(makeNode('n1', { cpu: '2' }));
    const pod = newPodInfo(makePod('p', { cpu: '500m', owner: 'rs' }));
    cache.assumePod(pod, 'n1');
    const ni = cache.nodeInfo('n1')!;
    assert.equal(ni.requested.milliCPU, 500);
    assert.equal(ni.pods.size, 1);
    assert.equal(cache.ownerPodCounts('uid-rs')?.get('n1'), 1);
    assert.ok(cache.isAssumed('default/p'));
    assert.ok(cache.forgetPod('default/p'));
    assert.equal(ni.requested.milliCPU, 0);
    assert.equal(ni.pods.size, 0);
    assert.equal(cache.ownerPodCounts('uid-rs'), undefined);
  });

  test('the informer’s bound pod confirms the assumption; forgetting then does nothing', () => {
    const cache = new SchedulerCache();
    cache.setNode(makeNode('n1'));
    const raw = makePod('p', { cpu: '1' });
    cache.assumePod(newPodInfo(raw), 'n1');
    cache.addOrUpdatePod(newPodInfo({ ...raw, spec: { ...raw.spec, nodeName: 'n1' } }));
    assert.equal(cache.isAssumed('default/p'), false);
    assert.equal(cache.forgetPod('default/p'), false);
    assert.equal(cache.nodeInfo('n1')!.requested.milliCPU, 1000);
    assert.equal(cache.stats().pods, 1);
  });

  test('non-zero requests, host ports and affinity indexes follow adds and removes', () => {
    const cache = new SchedulerCache();
    cache.setNode(makeNode('n1'));
    const p = makePod('p', {
      nodeName: 'n1',
      spec: {
        containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort: 80 }] }],
        affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { a: 'b' } }, topologyKey: 'k' }] } },
      },
    });
    cache.addOrUpdatePod(newPodInfo(p));
    const ni = cache.nodeInfo('n1')!;
    assert.equal(ni.nonZeroRequested.milliCPU, 100);
    assert.equal(ni.nonZeroRequested.memory, 200 * 1024 * 1024);
    assert.ok(ni.usedPorts.has('TCP/80'));
    assert.equal([...cache.podsWithRequiredAntiAffinity()].length, 1);
    cache.removePod('default/p');
    assert.equal(ni.usedPorts.size, 0);
    assert.equal([...cache.podsWithRequiredAntiAffinity()].length, 0);
    assert.equal(ni.nonZeroRequested.milliCPU, 0);
  });

  test('a status-only update points every index at the newer object without re-accounting', () => {
    const cache = new SchedulerCache();
    cache.setNode(makeNode('n1'));
    const bound = makePod('p', {
      nodeName: 'n1',
      cpu: '1',
      spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { labelSelector: {}, topologyKey: 'k' } }] } } },
    });
    cache.addOrUpdatePod(newPodInfo(bound));
    const running = { ...structuredClone(bound), status: { phase: 'Running' } };
    cache.refreshPod('default/p', running);
    const ni = cache.nodeInfo('n1')!;
    assert.equal(ni.pods.get('default/p')!.pod, running);
    assert.equal([...cache.podsInNamespace('default')][0].pod, running);
    assert.equal([...cache.podsWithAffinity()][0].pod, running);
    assert.equal(ni.requested.milliCPU, 1000, 'requests counted once');
    // A different pod under the same name (another uid) is not swapped in.
    cache.refreshPod('default/p', { ...running, metadata: { ...running.metadata, uid: 'other' } });
    assert.equal(ni.pods.get('default/p')!.pod, running);
    // Nor is an assumed pod's object.
    const assumed = newPodInfo(makePod('q', { cpu: '1' }));
    cache.assumePod(assumed, 'n1');
    cache.refreshPod('default/q', { ...assumed.pod, status: { phase: 'Running' } });
    assert.equal(ni.pods.get('default/q')!.pod, assumed.pod);
  });

  test('a deleted node leaves the node list but its pods keep their accounting', () => {
    const cache = new SchedulerCache();
    cache.setNode(makeNode('n1'));
    cache.setNode(makeNode('n2'));
    cache.addOrUpdatePod(newPodInfo(makePod('p', { nodeName: 'n1', cpu: '1' })));
    cache.removeNode('n1');
    assert.deepEqual(cache.nodeInfos().map((n) => n.name), ['n2']);
    assert.equal(cache.nodeInfo('n1'), undefined);
    cache.setNode(makeNode('n1'));
    assert.equal(cache.nodeInfo('n1')!.requested.milliCPU, 1000);
  });
});
