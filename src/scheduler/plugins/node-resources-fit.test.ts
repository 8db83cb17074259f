/** @module NodeResourcesFit: requests against allocatable, kube's reasons, LeastAllocated scores. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterEach, makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { nodeResourcesFitName } from './node-resources-fit.js';

describe('NodeResourcesFit filter', () => {
  const nodes = [
    makeNode('small', { cpu: '1', memory: '1Gi' }),
    makeNode('busy', { cpu: '4', memory: '8Gi' }),
    makeNode('full', { cpu: '8', memory: '16Gi', pods: '1' }),
    makeNode('big', { cpu: '8', memory: '16Gi', extra: { 'nvidia.com/gpu': '2' } }),
  ];
  const assigned = [makePod('running', { cpu: '3500m', memory: '1Gi', nodeName: 'busy' }), makePod('only', { nodeName: 'full' })];
  const { framework } = makeCluster(nodes, assigned);

  const cases: Array<{ name: string; pod: Parameters<typeof makePod>[1]; want: Record<string, string> }> = [
    {
      name: 'a best-effort pod needs only a pod slot',
      pod: {},
      want: { small: '', busy: '', full: 'Unschedulable: Too many pods', big: '' },
    },
    {
      name: 'cpu is compared with allocatable minus what assigned pods request',
      pod: { cpu: '1' },
      want: { small: '', busy: 'Unschedulable: Insufficient cpu', full: 'Unschedulable: Too many pods', big: '' },
    },
    {
      name: 'every insufficient resource is a reason, pods first',
      pod: { cpu: '2', memory: '2Gi' },
      want: {
        small: 'Unschedulable: Insufficient cpu, Insufficient memory',
        busy: 'Unschedulable: Insufficient cpu',
        full: 'Unschedulable: Too many pods',
        big: '',
      },
    },
    {
      name: 'a request larger than the node is still Unschedulable in 1.32 (preemption is tried)',
      pod: { cpu: '10' },
      want: {
        small: 'Unschedulable: Insufficient cpu',
        busy: 'Unschedulable: Insufficient cpu',
        full: 'Unschedulable: Too many pods, Insufficient cpu',
        big: 'Unschedulable: Insufficient cpu',
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(filterEach(framework, nodeResourcesFitName, makePod('p', c.pod)), c.want));
  }

  test('extended resources are scalar resources', () => {
    const pod = makePod('gpu', { spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { 'nvidia.com/gpu': '1' } } }] } });
    const got = filterEach(framework, nodeResourcesFitName, pod);
    assert.equal(got.big, '');
    assert.equal(got.small, 'Unschedulable: Insufficient nvidia.com/gpu');
  });

  test('init containers count as a maximum, sidecars alongside the app, overhead on top', () => {
    const initHeavy = makePod('init', {
      spec: {
        initContainers: [{ name: 'i', image: 'i', resources: { requests: { cpu: '1500m' } } }],
        containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '500m' } } }],
      },
    });
    // max(1500m, 500m) = 1500m > small's 1 cpu.
    assert.equal(filterEach(framework, nodeResourcesFitName, initHeavy).small, 'Unschedulable: Insufficient cpu');
    const sidecar = makePod('sidecar', {
      spec: {
        initContainers: [{ name: 's', image: 'i', restartPolicy: 'Always', resources: { requests: { cpu: '600m' } } }],
        containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '500m' } } }],
      },
    });
    assert.equal(filterEach(framework, nodeResourcesFitName, sidecar).small, 'Unschedulable: Insufficient cpu');
    const overhead = makePod('overhead', { cpu: '900m', spec: { overhead: { cpu: '200m' } } });
    assert.equal(filterEach(framework, nodeResourcesFitName, overhead).small, 'Unschedulable: Insufficient cpu');
    assert.equal(filterEach(framework, nodeResourcesFitName, makePod('fits', { cpu: '900m' })).small, '');
  });
});

describe('NodeResourcesFit score (LeastAllocated)', () => {
  test('free share of cpu and memory after placing the pod, averaged', () => {
    const { framework } = makeCluster(
      [makeNode('empty', { cpu: '4', memory: '8Gi' }), makeNode('half', { cpu: '4', memory: '8Gi' })],
      [makePod('x', { cpu: '2', memory: '4Gi', nodeName: 'half' })],
    );
    const scores = scoreEach(framework, nodeResourcesFitName, makePod('p', { cpu: '1', memory: '2Gi' }));
    // empty: cpu (4-1)/4 = 75, memory (8-2)/8 = 75; half: cpu (4-3)/4 = 25, memory 25.
    assert.deepEqual(scores, { empty: 75, half: 25 });
  });

  test('containers without requests count as 100m cpu and 200Mi memory', () => {
    const { framework } = makeCluster([makeNode('n', { cpu: '1', memory: '1000Mi' })]);
    // cpu (1000-100)/1000 = 90, memory (1000-200)/1000 = 80 → 85.
    assert.deepEqual(scoreEach(framework, nodeResourcesFitName, makePod('p')), { n: 85 });
  });
});
