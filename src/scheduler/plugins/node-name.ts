/**
 * @module NodeName: a pod that already names a node (spec.nodeName) fits only that node.
 * The scheduler never picks such pods up itself; the check matters for preemption dry runs
 * and mirrors kube's filter set.
 */
import { skip, success, unresolvable, type FilterPlugin, type PreFilterPlugin } from '../framework.js';

export const nodeNameName = 'NodeName';
export const errReasonNodeName = "node(s) didn't match the requested node name";

export const nodeName = {
  name: nodeNameName,
  events: ['NodeAdd'],
  preFilter(_state, pod) {
    return pod.nodeName ? undefined : skip();
  },
  filter(_state, pod, nodeInfo) {
    return !pod.nodeName || pod.nodeName === nodeInfo.name ? success() : unresolvable(errReasonNodeName);
  },
} satisfies FilterPlugin & PreFilterPlugin;
