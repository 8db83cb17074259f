/**
 * @module DefaultPreemption (PostFilter): when no node fits, look for a node where evicting
 * lower-priority pods would let the pod in — the fewest and least important victims, pods
 * given back ("reprieved") from the most important down while the pod still fits. Its
 * message when nothing can be gained is the second half of kube's FailedScheduling text:
 * "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.".
 */
import {
  fitErrorMessage,
  success,
  unresolvable,
  unschedulable,
  type FrameworkHandle,
  type PostFilterPlugin,
  type Status,
} from '../framework.js';
import type { NodeInfo, PodInfo } from '../types.js';

export const defaultPreemptionName = 'DefaultPreemption';
export const errPreemptionNotHelpful = 'Preemption is not helpful for scheduling';
export const errNoVictims = 'No preemption victims found for incoming pod';
export const errNotEligible = 'not eligible due to preemptionPolicy=Never.';

interface Candidate {
  node: NodeInfo;
  /** Most important first. */
  victims: PodInfo[];
}

/** MoreImportantPod: higher priority, then the one that started (was created) earlier. */
export function moreImportantFirst(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const sa = Date.parse(a.pod.status?.startTime ?? '') || a.createdAt;
  const sb = Date.parse(b.pod.status?.startTime ?? '') || b.createdAt;
  return sa - sb;
}

/** kube's pickOneNodeForPreemption, without PodDisruptionBudgets: lowest top victim, lowest priority sum, fewest victims. */
function pickCandidate(candidates: Candidate[]): Candidate {
  const offset = 2 ** 31;
  const key = (c: Candidate) => [c.victims[0]?.priority ?? -Infinity, c.victims.reduce((s, v) => s + v.priority + offset, 0), c.victims.length];
  let best = candidates[0];
  let bestKey = key(best);
  for (const c of candidates.slice(1)) {
    const k = key(c);
    for (let i = 0; i < k.length; i++) {
      if (k[i] < bestKey[i]) {
        best = c;
        bestKey = k;
        break;
      }
      if (k[i] > bestKey[i]) break;
    }
  }
  return best;
}

export function newDefaultPreemption(handle: FrameworkHandle) {
  /** SelectVictimsOnNode: undefined victims with the status that explains why not. */
  const selectVictims = (pod: PodInfo, ni: NodeInfo): { victims?: PodInfo[]; status?: Status } => {
    const lower = [...ni.pods.values()].filter((p) => p.priority < pod.priority);
    if (lower.length === 0) return { status: unresolvable(errNoVictims) };
    const st = handle.filterWithout(pod, ni, lower);
    if (st) return { status: st };
    lower.sort(moreImportantFirst);
    let removed = lower;
    const victims: PodInfo[] = [];
    for (const v of lower) {
      const trial = removed.filter((p) => p !== v);
      if (handle.filterWithout(pod, ni, trial) === undefined) removed = trial;
      else victims.push(v);
    }
    return { victims };
  };

  return {
    name: defaultPreemptionName,
    postFilter(_state, pod, diagnosis) {
      if (pod.preemptionPolicy === 'Never') return { status: unschedulable(`preemption: ${errNotEligible}`) };
      const statuses = new Map<string, Status>();
      const potential: NodeInfo[] = [];
      for (const ni of handle.nodeInfos()) {
        const st = diagnosis.nodeStatuses.get(ni.name) ?? diagnosis.absent;
        if (!st || st.code !== 'Unschedulable') statuses.set(ni.name, unresolvable(errPreemptionNotHelpful));
        else potential.push(ni);
      }
      // kube's calculateNumCandidates: 10% of the nodes, at least 100.
      const wanted = Math.max(100, Math.trunc(potential.length / 10));
      const candidates: Candidate[] = [];
      for (const ni of potential) {
        const r = selectVictims(pod, ni);
        if (r.victims) {
          candidates.push({ node: ni, victims: r.victims });
          if (candidates.length >= wanted) break;
        } else statuses.set(ni.name, r.status!);
      }
      if (candidates.length === 0) {
        const inner = fitErrorMessage(statuses.size, { nodeStatuses: statuses, unschedulablePlugins: new Set() });
        return { status: unschedulable(`preemption: ${inner}`) };
      }
      const best = pickCandidate(candidates);
      return { status: success(), nominatedNodeName: best.node.name, victims: best.victims };
    },
  } satisfies PostFilterPlugin;
}
