/** @module The scheduling cycle: node search limits, round-robin, scoring, FitError and preemption messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CycleState, fitErrorMessage, unresolvable, unschedulable } from './framework.js';
import { FitError, NoNodesAvailableError, numFeasibleNodesToFind } from './runtime.js';
import { makeCluster, makeNode, makePod } from './test-util.js';
import { newPodInfo } from './types.js';

describe('numFeasibleNodesToFind (percentageOfNodesToScore)', () => {
  const cases: Array<[number, number, number]> = [
    [50, 0, 50],
    [99, 0, 99],
    [100, 0, 100],
    [1000, 0, 420],
    [5000, 0, 500],
    [6000, 0, 300],
    [10_000, 0, 500],
    [100_000, 0, 5000],
    [1000, 30, 300],
    [200, 10, 100],
  ];
  for (const [nodes, pct, want] of cases) test(`${nodes} nodes at ${pct || 'adaptive'}% → ${want}`, () => assert.equal(numFeasibleNodesToFind(nodes, pct), want));
});

describe('schedulePod', () => {
  test('stops filtering once enough feasible nodes are found, and starts the next cycle after them', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => makeNode(`n${String(i).padStart(4, '0')}`));
    const { framework } = makeCluster(nodes);
    const first = framework.schedulePod(newPodInfo(makePod('p1')));
    assert.equal(first.evaluatedNodes, 420);
    assert.equal(first.feasibleNodes, 420);
    // With equal scores and random() = 0 the last tie wins: the 420th node.
    assert.equal(first.nodeName, 'n0419');
    const second = framework.schedulePod(newPodInfo(makePod('p2')));
    assert.equal(second.nodeName, 'n0839');
  });

  test('picks the best weighted score', () => {
    const { framework } = makeCluster(
      [makeNode('busy', { cpu: '4' }), makeNode('idle', { cpu: '4' }), makeNode('tainted', { cpu: '4', taints: [{ key: 'x', effect: 'PreferNoSchedule' }] })],
      [makePod('hog', { cpu: '3', nodeName: 'busy' })],
    );
    assert.equal(framework.schedulePod(newPodInfo(makePod('p', { cpu: '500m' }))).nodeName, 'idle');
  });

  test('no nodes at all', () => {
    const { framework } = makeCluster([]);
    assert.throws(() => framework.schedulePod(newPodInfo(makePod('p'))), (e: unknown) => e instanceof NoNodesAvailableError && e.message === 'no nodes available to schedule pods');
  });

  test('PreFilter narrowing leaves the other nodes with an absent status', () => {
    const { framework } = makeCluster([makeNode('a'), makeNode('b', { cpu: '1' }), makeNode('c')]);
    const ds = makePod('ds', {
      cpu: '2',
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] } } } },
    });
    try {
      framework.schedulePod(newPodInfo(ds));
      assert.fail('expected FitError');
    } catch (e) {
      assert.ok(e instanceof FitError);
      assert.equal(e.message, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity].");
    }
  });
});

/** Schedules a pod that must fail and returns the FailedScheduling text with preemption's part. */
function failure(nodes: ReturnType<typeof makeNode>[], assigned: ReturnType<typeof makePod>[], pod: ReturnType<typeof makePod>) {
  const { framework } = makeCluster(nodes, assigned);
  const pi = newPodInfo(pod);
  const state = new CycleState();
  try {
    framework.schedulePod(pi, state);
  } catch (e) {
    assert.ok(e instanceof FitError, String(e));
    const post = framework.runPostFilter(state, pi, e)!;
    if (post.status.code !== 'Success') e.postFilterMsg = post.status.reasons.join(', ');
    return { message: e.message, post };
  }
  throw new Error('pod was scheduled');
}

describe('FailedScheduling messages (kube 1.32 wording)', () => {
  test('insufficient cpu everywhere, nothing to preempt', () => {
    const { message } = failure([makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' }), makeNode('n3', { cpu: '2' })], [], makePod('big', { cpu: '10' }));
    assert.equal(message, '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod..');
  });

  test('reasons grouped, counted and sorted as strings; unresolvable nodes are not preemption candidates', () => {
    const { message } = failure(
      [makeNode('gpu', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), makeNode('n2', { cpu: '1' }), makeNode('n3', { cpu: '1' })],
      [],
      makePod('p', { cpu: '2' }),
    );
    assert.equal(
      message,
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..',
    );
  });

  test('cordoned and selector mismatches', () => {
    const { message } = failure([makeNode('a', { unschedulable: true }), makeNode('b'), makeNode('c')], [], makePod('p', { spec: { nodeSelector: { disk: 'ssd' } } }));
    assert.equal(
      message,
      "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
    );
  });

  test('preemptionPolicy Never', () => {
    const { message } = failure([makeNode('n', { cpu: '1' })], [], makePod('p', { cpu: '2', spec: { preemptionPolicy: 'Never' } }));
    assert.equal(message, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..');
  });

  test('count-prefixed reasons sort by bytes, so 10 comes before 2', () => {
    const statuses = new Map<string, ReturnType<typeof unschedulable>>();
    for (let i = 0; i < 10; i++) statuses.set(`a${i}`, unschedulable('Insufficient memory'));
    for (let i = 0; i < 2; i++) statuses.set(`b${i}`, unresolvable('Insufficient cpu'));
    assert.equal(fitErrorMessage(12, { nodeStatuses: statuses, unschedulablePlugins: new Set() }), '0/12 nodes are available: 10 Insufficient memory, 2 Insufficient cpu.');
  });

  test('a lower-priority pod whose eviction would help is chosen as victim', () => {
    const { post, message } = failure(
      [makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' })],
      [makePod('low', { cpu: '1500m', priority: 0, nodeName: 'n1' }), makePod('peer', { cpu: '1500m', priority: 100, nodeName: 'n2' })],
      makePod('high', { cpu: '1', priority: 100 }),
    );
    assert.equal(post.status.code, 'Success');
    assert.equal(post.nominatedNodeName, 'n1');
    assert.deepEqual(post.victims?.map((v) => v.name), ['low']);
    assert.equal(message, '0/2 nodes are available: 2 Insufficient cpu.');
  });

  test('victims are reprieved from the most important down while the pod still fits', () => {
    const { post } = failure(
      [makeNode('n1', { cpu: '3' })],
      [makePod('v1', { cpu: '1', priority: 5, nodeName: 'n1' }), makePod('v2', { cpu: '1', priority: 1, nodeName: 'n1' }), makePod('v3', { cpu: '1', priority: 3, nodeName: 'n1' })],
      makePod('high', { cpu: '1500m', priority: 10 }),
    );
    // Needs 1.5 cpu: evicting the two least important frees 2; v1 (priority 5) is kept.
    assert.deepEqual(post.victims?.map((v) => v.name).sort(), ['v2', 'v3']);
  });
});
