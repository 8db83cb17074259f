/**
 * @module Taints and tolerations as the node lifecycle and taint eviction controllers
 * read them: the condition → taint map (TaintNodesByCondition), ToleratesTaint,
 * GetMatchingTolerations and the shortest tolerationSeconds of the tolerations used.
 */
import type { KObject } from '../../api/types.js';

export const taintNodeNotReady = 'node.kubernetes.io/not-ready';
export const taintNodeUnreachable = 'node.kubernetes.io/unreachable';
export const taintNodeUnschedulable = 'node.kubernetes.io/unschedulable';
export const taintNodeMemoryPressure = 'node.kubernetes.io/memory-pressure';
export const taintNodeDiskPressure = 'node.kubernetes.io/disk-pressure';
export const taintNodePIDPressure = 'node.kubernetes.io/pid-pressure';
export const taintNodeNetworkUnavailable = 'node.kubernetes.io/network-unavailable';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal' | string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number | null;
}

/** nodeConditionToTaintKeyStatusMap: which condition status puts which NoSchedule taint. */
export const conditionTaints: Record<string, Record<string, string>> = {
  Ready: { False: taintNodeNotReady, Unknown: taintNodeUnreachable },
  MemoryPressure: { True: taintNodeMemoryPressure },
  DiskPressure: { True: taintNodeDiskPressure },
  NetworkUnavailable: { True: taintNodeNetworkUnavailable },
  PIDPressure: { True: taintNodePIDPressure },
};

/** The NoSchedule taint keys this controller owns (condition taints and unschedulable). */
export const managedNoScheduleKeys = new Set([...Object.values(conditionTaints).flatMap((m) => Object.values(m)), taintNodeUnschedulable]);
/** The NoExecute taint keys this controller owns. */
export const managedNoExecuteKeys = new Set([taintNodeNotReady, taintNodeUnreachable]);

export function taintsOf(node: KObject | undefined): Taint[] {
  return Array.isArray(node?.spec?.taints) ? (node!.spec.taints as Taint[]) : [];
}

export function noExecuteTaints(node: KObject | undefined): Taint[] {
  return taintsOf(node).filter((t) => t.effect === 'NoExecute');
}

export function readyCondition(node: KObject | undefined): KObject | undefined {
  return Array.isArray(node?.status?.conditions) ? node!.status.conditions.find((c: KObject) => c.type === 'Ready') : undefined;
}

/** v1 Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      // An empty key only tolerates everything with Exists.
      if (!t.key) return false;
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** GetMatchingTolerations: whether every taint is tolerated, and the tolerations that did it. */
export function matchingTolerations(taints: Taint[], tolerations: Toleration[]): { all: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/** getMinTolerationTime in seconds: -1 when tolerated forever, 0 when not at all. */
export function minTolerationSeconds(used: Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min;
}

/**
 * The node's taints with this controller's managed ones replaced by `wanted`: taints
 * already present keep their timeAdded; new NoExecute taints get `now`.
 */
export function reconcileTaints(current: Taint[], wanted: Taint[], now: string): { taints: Taint[]; changed: boolean } {
  const managed = (t: Taint) =>
    (t.effect === 'NoSchedule' && managedNoScheduleKeys.has(t.key)) || (t.effect === 'NoExecute' && managedNoExecuteKeys.has(t.key));
  const same = (a: Taint, b: Taint) => a.key === b.key && a.effect === b.effect;
  const kept = current.filter((t) => !managed(t) || wanted.some((w) => same(w, t)));
  const added = wanted.filter((w) => !current.some((t) => same(t, w))).map((w) => (w.effect === 'NoExecute' ? { ...w, timeAdded: now } : { ...w }));
  const changed = kept.length !== current.length || added.length > 0;
  return { taints: [...kept, ...added], changed };
}

/** The managed taints a node should carry for its conditions and spec.unschedulable. */
export function wantedTaints(node: KObject): Taint[] {
  const out: Taint[] = [];
  const conditions: KObject[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  for (const c of conditions) {
    const key = conditionTaints[c.type]?.[c.status];
    if (key) out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable === true) out.push({ key: taintNodeUnschedulable, effect: 'NoSchedule' });
  const ready = readyCondition(node)?.status;
  if (ready === 'False') out.push({ key: taintNodeNotReady, effect: 'NoExecute' });
  else if (ready === 'Unknown') out.push({ key: taintNodeUnreachable, effect: 'NoExecute' });
  return out;
}
