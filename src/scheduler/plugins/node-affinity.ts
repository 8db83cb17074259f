/**
 * @module NodeAffinity: spec.nodeSelector and requiredDuringScheduling node affinity must
 * both match the node (terms ORed, expressions ANDed); preferredDuringScheduling terms add
 * their weights to the score. PreFilter narrows the search to the nodes named by
 * `matchFields: metadata.name In` when every term has one (how DaemonSet pods are pinned).
 */
import type { KObject } from '../../api/types.js';
import {
  defaultNormalizeScore,
  skip,
  success,
  unresolvable,
  type FilterPlugin,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework.js';

export const nodeAffinityName = 'NodeAffinity';
export const errReasonPod = "node(s) didn't match Pod's node affinity/selector";
export const errReasonConflict = 'pod affinity terms conflict';

/** The node names every required term pins with matchFields metadata.name In; undefined when some term pins none. */
export function pinnedNodeNames(pod: KObject): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as KObject[] | undefined;
  if (!terms?.length) return undefined;
  let names: Set<string> | undefined;
  for (const t of terms) {
    let termNames: Set<string> | undefined;
    for (const r of (t.matchFields as KObject[] | undefined) ?? []) {
      if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
      const s = new Set<string>(r.values ?? []);
      termNames = termNames ? new Set([...termNames].filter((n) => s.has(n))) : s;
    }
    // Terms are ORed: one term without a name pin lets every node through.
    if (!termNames) return undefined;
    names = names ? new Set([...names, ...termNames]) : termNames;
  }
  return names;
}

export const nodeAffinity = {
  name: nodeAffinityName,
  events: ['NodeAdd', 'NodeUpdate'],
  weight: 2,
  preFilter(_state, pod) {
    if (!pod.requiredNodeMatch) return skip();
    const names = pinnedNodeNames(pod.pod);
    if (names && names.size === 0) return unresolvable(errReasonConflict);
    return names ? { nodeNames: names } : undefined;
  },
  filter(_state, pod, nodeInfo) {
    return !pod.requiredNodeMatch || pod.requiredNodeMatch(nodeInfo.labels, nodeInfo.name) ? success() : unresolvable(errReasonPod);
  },
  preScore(_state, pod) {
    return pod.preferredNodeTerms.length ? undefined : skip();
  },
  score(_state, pod, nodeInfo) {
    let score = 0;
    for (const t of pod.preferredNodeTerms) if (t.matches(nodeInfo.labels, nodeInfo.name)) score += t.weight;
    return score;
  },
  normalizeScore(_state, _pod, scores) {
    defaultNormalizeScore(scores, false);
  },
} satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
