/**
 * @module NodeReady: nodes whose Ready condition is not True take no new pods, unless the
 * pod tolerates the taint the node lifecycle controller puts on such nodes
 * (node.kubernetes.io/not-ready for False, node.kubernetes.io/unreachable for Unknown or a
 * missing condition) with effect NoSchedule. kube-scheduler relies on those taints alone;
 * this filter also covers the moment before the controller has tainted the node. Once the
 * taints are there, TaintToleration (which runs first) reports them, as kube does.
 */
import { success, unresolvable, type FilterPlugin } from '../framework.js';
import { tolerationsTolerateTaint, type Taint } from '../selectors.js';

export const nodeReadyName = 'NodeReady';
/** The wording of kube's former CheckNodeCondition predicate. */
export const errReasonNotReady = 'node(s) were not ready';
export const notReadyTaint: Taint = Object.freeze({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
export const unreachableTaint: Taint = Object.freeze({ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' });

export const nodeReady = {
  name: nodeReadyName,
  events: ['NodeAdd', 'NodeUpdate'],
  filter(_state, pod, nodeInfo) {
    if (nodeInfo.ready === 'True') return success();
    const taint = nodeInfo.ready === 'False' ? notReadyTaint : unreachableTaint;
    return tolerationsTolerateTaint(pod.tolerations, taint) ? success() : unresolvable(errReasonNotReady);
  },
} satisfies FilterPlugin;
