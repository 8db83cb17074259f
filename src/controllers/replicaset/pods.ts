/**
 * @module Which surplus pods a ReplicaSet deletes (kube's getPodsToDelete): the least
 * valuable by ActivePodsWithRanks, ranking each pod by how many related pods share its node.
 */
import type { KObject } from '../../api/types.js';
import { isPodActive, rankedActivePodLess } from '../common/index.js';

/**
 * getPodsToDelete: the `diff` least valuable of `pods`, ranking each by how many active
 * related pods (of the same owner's ReplicaSets) share its node.
 */
export function podsToDelete(pods: KObject[], relatedPods: KObject[], diff: number, now: Date): KObject[] {
  if (diff >= pods.length) return pods.slice(0, diff);
  const onNode = new Map<string, number>();
  for (const p of relatedPods) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  const nowMs = now.getTime();
  const before = (x: (typeof ranked)[number], y: (typeof ranked)[number]) => rankedActivePodLess(x.pod, x.rank, y.pod, y.rank, nowMs);
  ranked.sort((x, y) => (before(x, y) ? -1 : before(y, x) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}
