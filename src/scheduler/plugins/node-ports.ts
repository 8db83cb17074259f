/**
 * @module NodePorts: a pod asking for host ports fits only nodes where no assigned pod
 * holds the same protocol/port on the same host IP (0.0.0.0 conflicts with every IP).
 */
import { skip, success, unschedulable, type FilterPlugin, type PreFilterPlugin } from '../framework.js';

export const nodePortsName = 'NodePorts';
export const errReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";

export const nodePorts = {
  name: nodePortsName,
  events: ['NodeAdd', 'AssignedPodDelete'],
  preFilter(_state, pod) {
    return pod.hostPorts.length ? undefined : skip();
  },
  filter(_state, pod, nodeInfo) {
    if (nodeInfo.usedPorts.size === 0) return success();
    for (const hp of pod.hostPorts) {
      const ips = nodeInfo.usedPorts.get(`${hp.protocol}/${hp.port}`);
      if (!ips) continue;
      if (hp.ip === '0.0.0.0' || ips.has('0.0.0.0') || ips.has(hp.ip)) return unschedulable(errReasonNodePorts);
    }
    return success();
  },
} satisfies FilterPlugin & PreFilterPlugin;
