/**
 * @module TaintToleration: NoSchedule and NoExecute taints a pod does not tolerate rule the
 * node out; PreferNoSchedule taints it does not tolerate lower the node's score (fewer is
 * better, normalized in reverse).
 */
import { defaultNormalizeScore, skip, success, unresolvable, type FilterPlugin, type PreScorePlugin, type ScorePlugin } from '../framework.js';
import { findUntoleratedTaint, tolerationsTolerateTaint, type Taint, type Toleration } from '../selectors.js';

export const taintTolerationName = 'TaintToleration';
const stateKey = 'PreScoreTaintToleration';

const doNotSchedule = (t: Taint) => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

export const taintToleration = {
  name: taintTolerationName,
  events: ['NodeAdd', 'NodeUpdate'],
  weight: 3,
  filter(_state, pod, nodeInfo) {
    if (nodeInfo.taints.length === 0) return success();
    const taint = findUntoleratedTaint(nodeInfo.taints, pod.tolerations, doNotSchedule);
    return taint ? unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`) : success();
  },
  preScore(state, pod, nodes) {
    // Without any taint among the candidates every node scores the same: nothing to rank.
    if (!nodes.some((ni) => ni.taints.length > 0)) return skip();
    state.write(stateKey, pod.tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule'));
    return undefined;
  },
  score(state, _pod, nodeInfo) {
    if (nodeInfo.taints.length === 0) return 0;
    const tolerations = state.read<Toleration[]>(stateKey) ?? [];
    let intolerable = 0;
    for (const taint of nodeInfo.taints) if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tolerations, taint)) intolerable++;
    return intolerable;
  },
  normalizeScore(_state, _pod, scores) {
    defaultNormalizeScore(scores, true);
  },
} satisfies FilterPlugin & PreScorePlugin & ScorePlugin;
