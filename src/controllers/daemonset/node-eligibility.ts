/**
 * @module Which nodes a DaemonSet runs on (NodeShouldRunDaemonPod): the template's
 * nodeName, nodeSelector and required node affinity against the node's labels and name,
 * and the node's NoSchedule/NoExecute taints against the pod's tolerations — including the
 * tolerations every DaemonSet pod gets (not-ready, unreachable, the pressure conditions,
 * unschedulable).
 */
import type { KObject } from '../../api/types.js';

/** The tolerations AddOrUpdateDaemonPodTolerations gives every DaemonSet pod. */
export function daemonPodTolerations(hostNetwork: boolean): KObject[] {
  const t: KObject[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** AddOrUpdateTolerationInPodSpec for each daemon toleration: a matching one (key, operator, value, effect) is replaced. */
export function addDaemonPodTolerations(spec: KObject): void {
  const list: KObject[] = [...((spec.tolerations ?? []) as KObject[])];
  for (const t of daemonPodTolerations(spec.hostNetwork === true)) {
    const i = list.findIndex(
      (x) => (x.key ?? '') === t.key && (x.operator || 'Equal') === t.operator && (x.value ?? '') === (t.value ?? '') && (x.effect ?? '') === t.effect,
    );
    if (i >= 0) list[i] = t;
    else list.push(t);
  }
  spec.tolerations = list;
}

/** Toleration.ToleratesTaint. */
export function toleratesTaint(toleration: KObject, taint: KObject): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator || 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** FindMatchingUntoleratedTaint among the taints the filter keeps. */
export function findUntoleratedTaint(taints: KObject[], tolerations: KObject[], filter: (t: KObject) => boolean): KObject | undefined {
  return taints.filter(filter).find((taint) => !tolerations.some((tol) => toleratesTaint(tol, taint)));
}

function labelRequirementMatches(req: KObject, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  const values: string[] = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      const a = Number(value);
      const b = Number(values[0]);
      return req.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

function fieldRequirementMatches(req: KObject, node: KObject): boolean {
  // metadata.name is the only node field selectors may use.
  if (req.key !== 'metadata.name') return false;
  const values: string[] = req.values ?? [];
  const name = node.metadata?.name ?? '';
  if (req.operator === 'In') return values.includes(name);
  if (req.operator === 'NotIn') return !values.includes(name);
  return false;
}

/** A NodeSelectorTerm: all its requirements hold; an empty term matches nothing. */
function termMatches(term: KObject, node: KObject): boolean {
  const exprs = (term.matchExpressions ?? []) as KObject[];
  const fields = (term.matchFields ?? []) as KObject[];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  return exprs.every((r) => labelRequirementMatches(r, labels)) && fields.every((r) => fieldRequirementMatches(r, node));
}

/** GetRequiredNodeAffinity(pod).Match(node): nodeSelector labels, then any required affinity term. */
export function podFitsNodeAffinity(podSpec: KObject, node: KObject): boolean {
  const labels: Record<string, string> = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries((podSpec.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  const required = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return ((required.nodeSelectorTerms ?? []) as KObject[]).some((t) => termMatches(t, node));
}

/**
 * NodeShouldRunDaemonPod: shouldRun — a new daemon pod belongs on the node;
 * shouldContinueRunning — an existing one may stay (untolerated NoSchedule taints stop
 * new pods, only untolerated NoExecute taints evict).
 */
export function nodeShouldRunDaemonPod(node: KObject, ds: KObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec: KObject = structuredClone(ds.spec?.template?.spec ?? {});
  addDaemonPodTolerations(spec);
  if (spec.nodeName && spec.nodeName !== node.metadata?.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!podFitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = (node.spec?.taints ?? []) as KObject[];
  const tolerations = spec.tolerations as KObject[];
  if (findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) {
    const evicting = findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute');
    return { shouldRun: false, shouldContinueRunning: !evicting };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: the pod may only be scheduled onto this node. */
export function pinToNode(spec: KObject, nodeName: string): void {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  const na = spec.affinity.nodeAffinity;
  na.requiredDuringSchedulingIgnoredDuringExecution ??= {};
  na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms = [term];
}

/** GetTargetNodeName: the node a daemon pod runs on, or is pinned to before scheduling. */
export function targetNodeName(pod: KObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = (pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) as KObject[];
  for (const term of terms) {
    for (const f of (term.matchFields ?? []) as KObject[]) {
      if (f.key === 'metadata.name' && f.operator === 'In') return (f.values ?? []).length === 1 ? f.values[0] : undefined;
    }
  }
  return undefined;
}
