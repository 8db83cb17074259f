/**
 * @module PodTopologySpread: spreads matching pods across topology domains (node label
 * values). DoNotSchedule constraints filter: placing the pod must keep
 * `matching pods in the node's domain + self − global minimum ≤ maxSkew`.
 * ScheduleAnyway constraints score: fewer matching pods in the node's domain is better.
 * Pods without constraints get kube's system defaults (hostname maxSkew 3, zone maxSkew 5,
 * ScheduleAnyway), grouping the pods of the pod's controller.
 */
import { fromLabelSelector, nothing, type LabelSelector, type LabelSelectorObject } from '../../api/selectors/index.js';
import {
  maxNodeScore,
  skip,
  success,
  unresolvable,
  unschedulable,
  type CycleState,
  type FilterPlugin,
  type FrameworkHandle,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../framework.js';
import { findUntoleratedTaint, type Taint } from '../selectors.js';
import type { NodeInfo, PodInfo } from '../types.js';

export const podTopologySpreadName = 'PodTopologySpread';
export const errReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints";
export const errReasonNodeLabelNotMatch = `${errReasonConstraintsNotMatch} (missing required label)`;

export const labelHostname = 'kubernetes.io/hostname';
export const labelZone = 'topology.kubernetes.io/zone';

/** Which pods a constraint counts: those a label selector matches, or one controller's pods. */
type PodGroup = { kind: 'labels'; selector: LabelSelector } | { kind: 'owner'; uid: string };

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  group: PodGroup;
  minDomains: number;
  honorNodeAffinity: boolean;
  honorNodeTaints: boolean;
}

const doNotSchedule = (t: Taint) => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

/** The pod's constraints with the given whenUnsatisfiable, matchLabelKeys merged in. */
export function podConstraints(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of pod.topologySpreadConstraints) {
    if ((c.whenUnsatisfiable ?? 'DoNotSchedule') !== when) continue;
    let sel = c.labelSelector as LabelSelectorObject | null | undefined;
    const keys = (c.matchLabelKeys as string[] | undefined) ?? [];
    if (sel && keys.length) {
      const extra = keys.filter((k) => k in pod.labels).map((k) => ({ key: k, operator: 'In', values: [pod.labels[k]] }));
      sel = { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] };
    }
    let selector: LabelSelector;
    try {
      selector = fromLabelSelector(sel);
    } catch {
      selector = nothing;
    }
    out.push({
      maxSkew: Number(c.maxSkew ?? 1),
      topologyKey: String(c.topologyKey ?? ''),
      group: { kind: 'labels', selector },
      minDomains: Number(c.minDomains ?? 1),
      honorNodeAffinity: (c.nodeAffinityPolicy ?? 'Honor') === 'Honor',
      honorNodeTaints: c.nodeTaintsPolicy === 'Honor',
    });
  }
  return out;
}

/** kube's system default constraints, over the pod's controller. */
export function defaultConstraints(pod: PodInfo): SpreadConstraint[] {
  if (!pod.ownerUid) return [];
  const group: PodGroup = { kind: 'owner', uid: pod.ownerUid };
  const base = { group, minDomains: 1, honorNodeAffinity: true, honorNodeTaints: false };
  return [
    { ...base, maxSkew: 3, topologyKey: labelHostname },
    { ...base, maxSkew: 5, topologyKey: labelZone },
  ];
}

function selfMatches(c: SpreadConstraint, pod: PodInfo): boolean {
  return c.group.kind === 'owner' ? c.group.uid === pod.ownerUid : c.group.selector.matches(pod.labels);
}

/** Matching, non-terminating pods per node name for one constraint. */
function countsByNode(handle: FrameworkHandle, pod: PodInfo, c: SpreadConstraint): ReadonlyMap<string, number> {
  if (c.group.kind === 'owner') return handle.ownerPodCounts(c.group.uid) ?? new Map();
  const counts = new Map<string, number>();
  for (const p of handle.podsInNamespace(pod.namespace)) {
    if (p.terminating || !c.group.selector.matches(p.labels)) continue;
    counts.set(p.nodeName, (counts.get(p.nodeName) ?? 0) + 1);
  }
  return counts;
}

function hasAllKeys(labels: Record<string, string>, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (!(c.topologyKey in labels)) return false;
  return true;
}

/** Whether a node counts for a constraint under its nodeAffinityPolicy / nodeTaintsPolicy. */
function included(c: SpreadConstraint, pod: PodInfo, ni: NodeInfo): boolean {
  if (c.honorNodeAffinity && pod.requiredNodeMatch && !pod.requiredNodeMatch(ni.labels, ni.name)) return false;
  if (c.honorNodeTaints && ni.taints.length && findUntoleratedTaint(ni.taints, pod.tolerations, doNotSchedule)) return false;
  return true;
}

interface PreFilterState {
  constraints: SpreadConstraint[];
  /** Per constraint: matching pods per domain (topology value) of eligible nodes. */
  domainCounts: Map<string, number>[];
  minMatch: number[];
  selfMatch: number[];
}

interface PreScoreState {
  constraints: SpreadConstraint[];
  ignored: Set<string>;
  /** Per constraint: pods per domain (non-hostname keys only). */
  domainCounts: Map<string, number>[];
  /** Per constraint: pods per node (hostname keys only). */
  nodeCounts: (ReadonlyMap<string, number> | undefined)[];
  weights: number[];
}

const filterKey = 'PreFilterPodTopologySpread';
const scoreKey = 'PreScorePodTopologySpread';

export function newPodTopologySpread(handle: FrameworkHandle) {
  return {
    name: podTopologySpreadName,
    events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
    weight: 2,

    preFilter(state: CycleState, pod: PodInfo) {
      const constraints = podConstraints(pod, 'DoNotSchedule');
      if (constraints.length === 0) return skip();
      const byNode = constraints.map((c) => countsByNode(handle, pod, c));
      const domainCounts = constraints.map(() => new Map<string, number>());
      for (const ni of handle.nodeInfos()) {
        if (!hasAllKeys(ni.labels, constraints)) continue;
        constraints.forEach((c, i) => {
          if (!included(c, pod, ni)) return;
          const value = ni.labels[c.topologyKey];
          domainCounts[i].set(value, (domainCounts[i].get(value) ?? 0) + (byNode[i].get(ni.name) ?? 0));
        });
      }
      const minMatch = constraints.map((c, i) => {
        // Fewer domains than minDomains: the global minimum is taken to be 0.
        if (domainCounts[i].size < c.minDomains) return 0;
        let min = Number.MAX_SAFE_INTEGER;
        for (const n of domainCounts[i].values()) if (n < min) min = n;
        return min;
      });
      const selfMatch = constraints.map((c) => (selfMatches(c, pod) ? 1 : 0));
      state.write(filterKey, { constraints, domainCounts, minMatch, selfMatch } satisfies PreFilterState);
      return undefined;
    },

    filter(state: CycleState, _pod: PodInfo, ni: NodeInfo) {
      const s = state.read<PreFilterState>(filterKey)!;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const value = ni.labels[c.topologyKey];
        if (value === undefined) return unresolvable(errReasonNodeLabelNotMatch);
        const skew = (s.domainCounts[i].get(value) ?? 0) + s.selfMatch[i] - s.minMatch[i];
        if (skew > c.maxSkew) return unschedulable(errReasonConstraintsNotMatch);
      }
      return success();
    },

    preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]) {
      const explicit = pod.topologySpreadConstraints.length > 0;
      let constraints = explicit ? podConstraints(pod, 'ScheduleAnyway') : defaultConstraints(pod);
      if (!explicit) {
        // A default constraint whose key no feasible node carries scores every node alike: drop it.
        constraints = constraints.filter((c) => nodes.some((ni) => c.topologyKey in ni.labels));
      }
      if (constraints.length === 0 || nodes.length === 0) return skip();
      // System defaults do not require every key: nodes without a zone just get no zone score.
      const requireAll = explicit;
      const ignored = new Set<string>();
      const domainCounts = constraints.map(() => new Map<string, number>());
      const topoSize = constraints.map(() => 0);
      for (const ni of nodes) {
        if (requireAll && !hasAllKeys(ni.labels, constraints)) {
          ignored.add(ni.name);
          continue;
        }
        constraints.forEach((c, i) => {
          if (c.topologyKey === labelHostname) return;
          const value = ni.labels[c.topologyKey] ?? '';
          if (!domainCounts[i].has(value)) {
            domainCounts[i].set(value, 0);
            topoSize[i]++;
          }
        });
      }
      const nodeCounts = constraints.map((c) => countsByNode(handle, pod, c));
      constraints.forEach((c, i) => {
        if (c.topologyKey === labelHostname) return;
        // Domain totals count pods on every eligible node, not only the feasible ones.
        for (const [nodeName, n] of nodeCounts[i]) {
          const ni = handle.nodeInfo(nodeName);
          if (!ni || (requireAll && !hasAllKeys(ni.labels, constraints)) || !included(c, pod, ni)) continue;
          const value = ni.labels[c.topologyKey] ?? '';
          const cur = domainCounts[i].get(value);
          if (cur !== undefined) domainCounts[i].set(value, cur + n);
        }
      });
      const weights = constraints.map((c, i) => Math.log((c.topologyKey === labelHostname ? nodes.length - ignored.size : topoSize[i]) + 2));
      state.write(scoreKey, {
        constraints,
        ignored,
        domainCounts,
        nodeCounts: constraints.map((c, i) => (c.topologyKey === labelHostname ? nodeCounts[i] : undefined)),
        weights,
      } satisfies PreScoreState);
      return undefined;
    },

    score(state: CycleState, _pod: PodInfo, ni: NodeInfo) {
      const s = state.read<PreScoreState>(scoreKey)!;
      if (s.ignored.size && s.ignored.has(ni.name)) return 0;
      let score = 0;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const value = ni.labels[c.topologyKey];
        if (value === undefined) continue;
        const cnt = c.topologyKey === labelHostname ? (s.nodeCounts[i]!.get(ni.name) ?? 0) : (s.domainCounts[i].get(value) ?? 0);
        score += cnt * s.weights[i] + (c.maxSkew - 1);
      }
      return Math.round(score);
    },

    normalizeScore(state: CycleState, _pod: PodInfo, scores: number[], nodes: readonly NodeInfo[]) {
      const s = state.read<PreScoreState>(scoreKey);
      if (!s) return;
      let min = Number.MAX_SAFE_INTEGER;
      let max = 0;
      for (let i = 0; i < scores.length; i++) {
        if (s.ignored.has(nodes[i].name)) continue;
        if (scores[i] < min) min = scores[i];
        if (scores[i] > max) max = scores[i];
      }
      for (let i = 0; i < scores.length; i++) {
        if (s.ignored.has(nodes[i].name)) scores[i] = 0;
        else if (max === 0) scores[i] = maxNodeScore;
        else scores[i] = Math.trunc((maxNodeScore * (max + min - scores[i])) / max);
      }
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
