/**
 * @module Pod rules the controllers share (kube's pkg/controller and api/v1/pod helpers):
 * terminal, active, terminating, ready and available pods; the order in which surplus
 * pods go (ActivePods, and ActivePodsWithRanks with LogarithmicScaleDown and
 * pod-deletion-cost); and pods built from a template.
 */
import type { KObject, OwnerReference } from '../../api/types.js';
import { parseTime } from './time.js';

export function isPodTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** controller.IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: KObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/** controller.IsPodTerminating: being deleted but not yet finished. */
export function isPodTerminating(pod: KObject): boolean {
  return !isPodTerminal(pod) && !!pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: KObject): KObject | undefined {
  return ((pod.status?.conditions ?? []) as KObject[]).find((c) => c?.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became ready or unready (the Ready condition's lastTransitionTime), ms since the epoch. */
export function podReadyTime(pod: KObject): number | undefined {
  return parseTime(readyCondition(pod)?.lastTransitionTime);
}

/** podutil.IsPodAvailable: ready for more than minReadySeconds at nowMs. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** "ns/name": the key expectations track pods by. */
export function podKey(pod: KObject): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

// ---- which pod goes first ----

const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

const deletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

/** controller.kubernetes.io/pod-deletion-cost as an int32; 0 when absent or malformed. */
function deletionCost(pod: KObject): number {
  const v = pod.metadata?.annotations?.[deletionCostAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** maxContainerRestarts: the highest restart count of regular containers, then of restartable (sidecar) init containers. */
function maxRestarts(pod: KObject): [number, number] {
  const regular = Math.max(0, ...((pod.status?.containerStatuses ?? []) as KObject[]).map((s) => s.restartCount ?? 0));
  const sidecars = new Set(((pod.spec?.initContainers ?? []) as KObject[]).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const sidecar = Math.max(0, ...((pod.status?.initContainerStatuses ?? []) as KObject[]).filter((s) => sidecars.has(s.name)).map((s) => s.restartCount ?? 0));
  return [regular, sidecar];
}

/** afterOrZero: a missing time sorts first, then the later time. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/** kube's logarithmicRankDiff: compare ages by the power of two of their nanoseconds. */
function logRankDiff(t1: number, t2: number, nowMs: number): number {
  const rank = (t: number) => {
    const ns = (nowMs - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return rank(t1) - rank(t2);
}

/** LogarithmicScaleDown: times in the same power-of-two age bucket tie, and the uid breaks the tie. */
function logTimeLess(t1: number | undefined, t2: number | undefined, uid1: string, uid2: string, nowMs: number): boolean {
  if (t1 === undefined || t2 === undefined) return afterOrZero(t1, t2);
  const d = logRankDiff(t1, t2, nowMs);
  if (d === 0) return uid1 < uid2;
  return d < 0;
}

interface Ranks {
  rankA: number;
  rankB: number;
  nowMs: number;
}

function less(a: KObject, b: KObject, ranked?: Ranks): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const pa = phaseOrdinal[a.status?.phase] ?? 0;
  const pb = phaseOrdinal[b.status?.phase] ?? 0;
  if (pa !== pb) return pa < pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return !ra;
  if (ranked) {
    const ca = deletionCost(a);
    const cb = deletionCost(b);
    if (ca !== cb) return ca < cb;
    if (ranked.rankA !== ranked.rankB) return ranked.rankA > ranked.rankB;
  }
  const uidA = a.metadata?.uid ?? '';
  const uidB = b.metadata?.uid ?? '';
  const timeLess = (t1: number | undefined, t2: number | undefined) => (ranked ? logTimeLess(t1, t2, uidA, uidB, ranked.nowMs) : afterOrZero(t1, t2));
  if (ra && rb) {
    const ta = podReadyTime(a);
    const tb = podReadyTime(b);
    if (ta !== tb) return timeLess(ta, tb);
  }
  const [regA, sideA] = maxRestarts(a);
  const [regB, sideB] = maxRestarts(b);
  if (regA !== regB) return regA > regB;
  if (sideA !== sideB) return sideA > sideB;
  const cta = parseTime(a.metadata?.creationTimestamp);
  const ctb = parseTime(b.metadata?.creationTimestamp);
  if (cta !== ctb) return timeLess(cta, ctb);
  return false;
}

/**
 * controller.ActivePods.Less: true when pod a should go before pod b. Unassigned <
 * assigned; Pending < Unknown < Running; not ready < ready; ready more recently first;
 * more restarts first; created more recently first (missing times first).
 */
export function activePodLess(a: KObject, b: KObject): boolean {
  return less(a, b);
}

/** controller.ActivePods as a sort comparator: the pods to remove first sort first. */
export function compareActivePods(a: KObject, b: KObject): number {
  return activePodLess(a, b) ? -1 : activePodLess(b, a) ? 1 : 0;
}

/**
 * controller.ActivePodsWithRanks.Less: as ActivePods, with lower pod-deletion-cost first,
 * then the higher rank (more co-located related pods) first, and ready and creation times
 * compared in log2 age buckets (LogarithmicScaleDown, ties broken by uid).
 */
export function rankedActivePodLess(a: KObject, rankA: number, b: KObject, rankB: number, nowMs: number): boolean {
  return less(a, b, { rankA, rankB, nowMs });
}

// ---- pods from templates ----

/**
 * controller.GetPodFromTemplate: the template's labels, annotations, finalizers and spec,
 * owned by the controller, named `<owner>-<random>` (callers may name it instead).
 */
export function podFromTemplate(template: KObject | undefined, owner: KObject, ref: OwnerReference): KObject {
  const meta: KObject = template?.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata!.name}-`,
      namespace: owner.metadata!.namespace,
      ownerReferences: [ref],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
  if (meta.labels && Object.keys(meta.labels).length) pod.metadata!.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata!.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
  return pod;
}
