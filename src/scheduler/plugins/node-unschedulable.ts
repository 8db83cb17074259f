/**
 * @module NodeUnschedulable: cordoned nodes (spec.unschedulable) take no new pods, except
 * pods tolerating the node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods).
 */
import { success, unresolvable, type FilterPlugin } from '../framework.js';
import { tolerationsTolerateTaint, type Taint } from '../selectors.js';

export const nodeUnschedulableName = 'NodeUnschedulable';
export const errReasonUnschedulable = 'node(s) were unschedulable';
export const unschedulableTaint: Taint = Object.freeze({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });

export const nodeUnschedulable = {
  name: nodeUnschedulableName,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, nodeInfo) {
    if (!nodeInfo.unschedulable) return success();
    return tolerationsTolerateTaint(pod.tolerations, unschedulableTaint) ? success() : unresolvable(errReasonUnschedulable);
  },
} satisfies FilterPlugin;
