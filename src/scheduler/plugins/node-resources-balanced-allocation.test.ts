/** @module NodeResourcesBalancedAllocation: 100 × (1 − |cpu share − memory share| / 2) after placing the pod. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCluster, makeNode, makePod, scoreEach } from '../test-util.js';
import { balancedAllocationName } from './node-resources-balanced-allocation.js';

test('prefers the node whose cpu and memory shares stay closest', () => {
  const { framework } = makeCluster(
    [makeNode('even', { cpu: '4', memory: '4Gi' }), makeNode('skewed', { cpu: '4', memory: '4Gi' }), makeNode('over', { cpu: '1', memory: '64Gi' })],
    [makePod('x', { cpu: '2', nodeName: 'skewed' })],
  );
  // even: cpu 1/4, memory 1/4 → 100; skewed: cpu 3/4, memory 1/4 → 75; over: cpu capped at 1, memory 1/64 → 50.
  assert.deepEqual(scoreEach(framework, balancedAllocationName, makePod('p', { cpu: '1', memory: '1Gi' })), { even: 100, skewed: 75, over: 50 });
});
