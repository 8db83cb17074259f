/**
 * @module NodeResourcesFit: the pod's requests (containers summed, init containers as a
 * maximum, overhead added) must fit in allocatable minus what the node's pods request, for
 * cpu, memory, ephemeral-storage and scalar resources, and the node must have a pod slot
 * left. Scored with the LeastAllocated strategy (cpu and memory, weight 1 each) over
 * non-zero requests.
 */
import { maxNodeScore, success, unschedulable, type FilterPlugin, type ScorePlugin } from '../framework.js';
import { isZero } from '../resources.js';
import type { NodeInfo, PodInfo } from '../types.js';

export const nodeResourcesFitName = 'NodeResourcesFit';

/** Every reason the pod does not fit (kube's fitsRequest), in kube's order. */
export function insufficientResources(pod: PodInfo, nodeInfo: NodeInfo): string[] {
  const reasons: string[] = [];
  if (nodeInfo.pods.size + 1 > nodeInfo.allocatable.pods) reasons.push('Too many pods');
  const req = pod.requests;
  if (isZero(req)) return reasons;
  const alloc = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) reasons.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) reasons.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) reasons.push('Insufficient ephemeral-storage');
  if (req.scalar) {
    for (const name in req.scalar) {
      const want = req.scalar[name];
      if (want === 0) continue;
      if (want > (alloc.scalar?.[name] ?? 0) - (used.scalar?.[name] ?? 0)) reasons.push(`Insufficient ${name}`);
    }
  }
  return reasons;
}

/** leastRequestedScore: the free share of a resource after placing the pod, 0..100. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

export const nodeResourcesFit = {
  name: nodeResourcesFitName,
  events: ['NodeAdd', 'NodeUpdate', 'AssignedPodDelete', 'AssignedPodUpdate'],
  weight: 1,
  filter(_state, pod, nodeInfo) {
    // The common case first, without allocating: a free slot and room for every request.
    const req = pod.requests;
    const alloc = nodeInfo.allocatable;
    const used = nodeInfo.requested;
    if (
      nodeInfo.pods.size + 1 <= alloc.pods &&
      req.milliCPU <= alloc.milliCPU - used.milliCPU &&
      req.memory <= alloc.memory - used.memory &&
      req.ephemeralStorage <= alloc.ephemeralStorage - used.ephemeralStorage &&
      !req.scalar
    ) {
      return success();
    }
    const reasons = insufficientResources(pod, nodeInfo);
    return reasons.length ? unschedulable(...reasons) : success();
  },
  score(_state, pod, nodeInfo) {
    const cpu = leastRequestedScore(nodeInfo.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, nodeInfo.allocatable.milliCPU);
    const mem = leastRequestedScore(nodeInfo.nonZeroRequested.memory + pod.nonZeroRequests.memory, nodeInfo.allocatable.memory);
    return Math.trunc((cpu + mem) / 2);
  },
} satisfies FilterPlugin & ScorePlugin;
