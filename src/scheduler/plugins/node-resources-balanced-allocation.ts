/**
 * @module NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory would be used
 * in equal shares after placing the pod: 100 × (1 − standard deviation of the two fractions),
 * over actual requests.
 */
import { maxNodeScore, type ScorePlugin } from '../framework.js';

export const balancedAllocationName = 'NodeResourcesBalancedAllocation';

export const balancedAllocation = {
  name: balancedAllocationName,
  weight: 1,
  score(_state, pod, nodeInfo) {
    const alloc = nodeInfo.allocatable;
    // With one resource (or none) the deviation is 0: a perfectly balanced node.
    if (alloc.milliCPU <= 0 || alloc.memory <= 0) return maxNodeScore;
    const cpu = Math.min(1, (nodeInfo.requested.milliCPU + pod.requests.milliCPU) / alloc.milliCPU);
    const memory = Math.min(1, (nodeInfo.requested.memory + pod.requests.memory) / alloc.memory);
    return Math.trunc((1 - Math.abs((cpu - memory) / 2)) * maxNodeScore);
  },
} satisfies ScorePlugin;
