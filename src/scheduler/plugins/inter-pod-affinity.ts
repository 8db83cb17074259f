/**
 * @module InterPodAffinity: required pod affinity (some matching pod in the node's topology
 * domain — or none anywhere and the pod matches its own terms, so the first of a group can
 * land), required anti-affinity (no matching pod in the domain), and existing pods'
 * required anti-affinity against the incoming pod. Preferred terms of both sides, and
 * existing pods' required affinity (hard weight 1), score the domains.
 */
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
import { termMatches, type AffinityTerm, type WeightedAffinityTerm } from '../selectors.js';
import type { NodeInfo, PodInfo } from '../types.js';

export const interPodAffinityName = 'InterPodAffinity';
export const errReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules";
export const errReasonAffinityRulesNotMatch = "node(s) didn't match pod affinity rules";
export const errReasonAntiAffinityRulesNotMatch = "node(s) didn't match pod anti-affinity rules";

/** kube's default hardPodAffinityWeight. */
const hardPodAffinityWeight = 1;

/** Counts per topology pair, keyed "key\0value". */
type PairCounts = Map<string, number>;

const pair = (key: string, value: string) => `${key}\u0000${value}`;

function bump(m: PairCounts, ni: NodeInfo, key: string, by: number): void {
  const value = ni.labels[key];
  if (value === undefined) return;
  const k = pair(key, value);
  m.set(k, (m.get(k) ?? 0) + by);
}

interface PreFilterState {
  existingAntiAffinity: PairCounts;
  affinity: PairCounts;
  antiAffinity: PairCounts;
  /** The pod matches all its own required affinity terms (the "first pod of a group" rule). */
  selfAffinity: boolean;
}

interface PreScoreState {
  /** topologyKey → value → score */
  scores: Map<string, Map<string, number>>;
}

const filterKey = 'PreFilterInterPodAffinity';
const scoreKey = 'PreScoreInterPodAffinity';

/** Existing pods a term set may match: the namespaces named by the terms, or every pod when a term selects namespaces by label. */
function candidatePods(handle: FrameworkHandle, terms: readonly AffinityTerm[]): Iterable<PodInfo> {
  // A namespaceSelector (even {}) may select any namespace.
  if (terms.some((t) => !t.namespaceSelector.nothing)) return allPods(handle);
  const namespaces = new Set<string>();
  for (const t of terms) for (const ns of t.namespaces) namespaces.add(ns);
  return (function* () {
    for (const ns of namespaces) yield* handle.podsInNamespace(ns);
  })();
}

function* allPods(handle: FrameworkHandle): Iterable<PodInfo> {
  for (const ni of handle.nodeInfos()) yield* ni.pods.values();
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, nsLabels: Record<string, string> | undefined): boolean {
  for (const t of terms) if (!termMatches(t, pod, nsLabels)) return false;
  return terms.length > 0;
}

export function newInterPodAffinity(handle: FrameworkHandle) {
  return {
    name: interPodAffinityName,
    events: ['NodeAdd', 'NodeUpdate', 'AssignedPodAdd', 'AssignedPodUpdate', 'AssignedPodDelete'],
    weight: 2,

    preFilter(state: CycleState, pod: PodInfo) {
      const required = pod.requiredAffinityTerms;
      const anti = pod.requiredAntiAffinityTerms;
      const existingAntiAffinity: PairCounts = new Map();
      const podNsLabels = handle.namespaceLabels(pod.namespace);
      for (const e of handle.podsWithRequiredAntiAffinity()) {
        const ni = handle.nodeInfo(e.nodeName);
        if (!ni || e.key === pod.key) continue;
        for (const t of e.requiredAntiAffinityTerms) if (termMatches(t, pod, podNsLabels)) bump(existingAntiAffinity, ni, t.topologyKey, 1);
      }
      if (required.length === 0 && anti.length === 0 && existingAntiAffinity.size === 0) return skip();
      const affinity: PairCounts = new Map();
      const antiAffinity: PairCounts = new Map();
      if (required.length || anti.length) {
        for (const e of candidatePods(handle, [...required, ...anti])) {
          const ni = handle.nodeInfo(e.nodeName);
          if (!ni || e.key === pod.key) continue;
          const nsLabels = handle.namespaceLabels(e.namespace);
          if (required.length && matchesAll(required, e, nsLabels)) for (const t of required) bump(affinity, ni, t.topologyKey, 1);
          for (const t of anti) if (termMatches(t, e, nsLabels)) bump(antiAffinity, ni, t.topologyKey, 1);
        }
      }
      const selfAffinity = matchesAll(required, pod, podNsLabels);
      state.write(filterKey, { existingAntiAffinity, affinity, antiAffinity, selfAffinity } satisfies PreFilterState);
      return undefined;
    },

    filter(state: CycleState, pod: PodInfo, ni: NodeInfo) {
      const s = state.read<PreFilterState>(filterKey)!;
      if (pod.requiredAffinityTerms.length) {
        let podsExist = true;
        for (const t of pod.requiredAffinityTerms) {
          const value = ni.labels[t.topologyKey];
          // Every topology key must be on the node.
          if (value === undefined) return unresolvable(errReasonAffinityRulesNotMatch);
          if ((s.affinity.get(pair(t.topologyKey, value)) ?? 0) <= 0) podsExist = false;
        }
        // No matching pod anywhere yet: a pod matching its own terms may start the group.
        if (!podsExist && !(s.affinity.size === 0 && s.selfAffinity)) return unresolvable(errReasonAffinityRulesNotMatch);
      }
      for (const t of pod.requiredAntiAffinityTerms) {
        const value = ni.labels[t.topologyKey];
        if (value !== undefined && (s.antiAffinity.get(pair(t.topologyKey, value)) ?? 0) > 0) return unschedulable(errReasonAntiAffinityRulesNotMatch);
      }
      for (const [k, n] of s.existingAntiAffinity) {
        if (n <= 0) continue;
        const i = k.indexOf('\u0000');
        if (ni.labels[k.slice(0, i)] === k.slice(i + 1)) return unschedulable(errReasonExistingAntiAffinityRulesNotMatch);
      }
      return success();
    },

    preScore(state: CycleState, pod: PodInfo) {
      const hasPreferred = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
      const existing = hasPreferred ? allPods(handle) : handle.podsWithAffinity();
      const scores = new Map<string, Map<string, number>>();
      const add = (key: string, ni: NodeInfo, by: number) => {
        const value = ni.labels[key];
        if (value === undefined || by === 0) return;
        let m = scores.get(key);
        if (!m) scores.set(key, (m = new Map()));
        m.set(value, (m.get(value) ?? 0) + by);
      };
      const podNsLabels = handle.namespaceLabels(pod.namespace);
      const weighted = (terms: readonly WeightedAffinityTerm[], target: PodInfo, nsLabels: Record<string, string> | undefined, ni: NodeInfo, sign: number) => {
        for (const t of terms) if (termMatches(t, target, nsLabels)) add(t.topologyKey, ni, sign * t.weight);
      };
      for (const e of existing) {
        if (e.key === pod.key) continue;
        const ni = handle.nodeInfo(e.nodeName);
        if (!ni) continue;
        const eNsLabels = handle.namespaceLabels(e.namespace);
        weighted(pod.preferredAffinityTerms, e, eNsLabels, ni, 1);
        weighted(pod.preferredAntiAffinityTerms, e, eNsLabels, ni, -1);
        for (const t of e.requiredAffinityTerms) if (termMatches(t, pod, podNsLabels)) add(t.topologyKey, ni, hardPodAffinityWeight);
        weighted(e.preferredAffinityTerms, pod, podNsLabels, ni, 1);
        weighted(e.preferredAntiAffinityTerms, pod, podNsLabels, ni, -1);
      }
      if (scores.size === 0) return skip();
      state.write(scoreKey, { scores } satisfies PreScoreState);
      return undefined;
    },

    score(state: CycleState, _pod: PodInfo, ni: NodeInfo) {
      const s = state.read<PreScoreState>(scoreKey)!;
      let score = 0;
      for (const [key, byValue] of s.scores) {
        const value = ni.labels[key];
        if (value !== undefined) score += byValue.get(value) ?? 0;
      }
      return score;
    },

    normalizeScore(_state: CycleState, _pod: PodInfo, scores: number[]) {
      let min = Number.MAX_SAFE_INTEGER;
      let max = Number.MIN_SAFE_INTEGER;
      for (const s of scores) {
        if (s > max) max = s;
        if (s < min) min = s;
      }
      const diff = max - min;
      for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((maxNodeScore * (scores[i] - min)) / diff) : 0;
    },
  } satisfies PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin;
}
