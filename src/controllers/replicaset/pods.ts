/**
 * @module Pod rules the workload controllers share (kube's pkg/controller and podutil):
 * active, ready and available pods, the order in which surplus pods are deleted
 * (ActivePodsWithRanks with LogarithmicScaleDown and pod-deletion-cost), slow-start
 * batches and pods built from a template.
 */
import type { KObject, OwnerReference } from '../../api/types.js';

/** controller.IsPodActive: not terminal and not being deleted. */
export function isPodActive(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: KObject): KObject | undefined {
  return (pod.status?.conditions as KObject[] | undefined)?.find((c) => c.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became ready (the Ready condition's lastTransitionTime), ms since the epoch. */
export function podReadyTime(pod: KObject): number | undefined {
  const t = readyCondition(pod)?.lastTransitionTime;
  return t ? Date.parse(t) : undefined;
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadyTime(pod);
  return since !== undefined && since + minReadySeconds * 1000 < now.getTime();
}

/** "ns/name": the key expectations track pods by. */
export function podKey(pod: KObject): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

const phaseOrdinal: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

const deletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: KObject): number {
  const v = pod.metadata?.annotations?.[deletionCostAnnotation];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return 0;
  const n = Number(v);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** Highest restart count of regular containers, then of restartable (sidecar) init containers. */
function maxRestarts(pod: KObject): [number, number] {
  const regular = Math.max(0, ...((pod.status?.containerStatuses ?? []) as KObject[]).map((s) => s.restartCount ?? 0));
  const sidecars = new Set(((pod.spec?.initContainers ?? []) as KObject[]).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  const sidecar = Math.max(0, ...((pod.status?.initContainerStatuses ?? []) as KObject[]).filter((s) => sidecars.has(s.name)).map((s) => s.restartCount ?? 0));
  return [regular, sidecar];
}

/** kube's logarithmicRankDiff: compare ages by the power of two of their nanoseconds. */
function logRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => {
    const ns = (now - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return rank(t1) - rank(t2);
}

/** afterOrZero: a missing time sorts first, then the later time. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (!t1 || !t2) return !t1;
  return t1 > t2;
}

function timeLess(t1: number | undefined, t2: number | undefined, uid1: string, uid2: string, now: number): boolean {
  if (!t1 || !t2) return afterOrZero(t1, t2);
  const d = logRankDiff(t1, t2, now);
  if (d === 0) return uid1 < uid2;
  return d < 0;
}

/**
 * ActivePodsWithRanks.Less: true when pod a should be deleted before pod b. Unassigned <
 * assigned; Pending < Unknown < Running; not ready < ready; lower deletion cost first;
 * more co-located related pods (rank) first; ready more recently (in log2 buckets) first;
 * more restarts first; created more recently (in log2 buckets) first.
 */
export function deletesBefore(a: KObject, rankA: number, b: KObject, rankB: number, now: Date): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const pa = phaseOrdinal[a.status?.phase] ?? 0;
  const pb = phaseOrdinal[b.status?.phase] ?? 0;
  if (pa !== pb) return pa < pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return !ra;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca < cb;
  if (rankA !== rankB) return rankA > rankB;
  const uidA = a.metadata?.uid ?? '';
  const uidB = b.metadata?.uid ?? '';
  if (ra && rb) {
    const ta = podReadyTime(a);
    const tb = podReadyTime(b);
    if (ta !== tb) return timeLess(ta, tb, uidA, uidB, now.getTime());
  }
  const [regA, sideA] = maxRestarts(a);
  const [regB, sideB] = maxRestarts(b);
  if (regA !== regB) return regA > regB;
  if (sideA !== sideB) return sideA > sideB;
  const cta = a.metadata?.creationTimestamp ? Date.parse(a.metadata.creationTimestamp) : undefined;
  const ctb = b.metadata?.creationTimestamp ? Date.parse(b.metadata.creationTimestamp) : undefined;
  if (cta !== ctb) return timeLess(cta, ctb, uidA, uidB, now.getTime());
  return false;
}

/**
 * getPodsToDelete: the `diff` least valuable of `pods`, ranking each by how many active
 * related pods (of the same owner's ReplicaSets) share its node.
 */
export function podsToDelete(pods: KObject[], relatedPods: KObject[], diff: number, now: Date): KObject[] {
  if (diff >= pods.length) return pods.slice(0, diff);
  const onNode = new Map<string, number>();
  for (const p of relatedPods) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => (deletesBefore(x.pod, x.rank, y.pod, y.rank, now) ? -1 : deletesBefore(y.pod, y.rank, x.pod, x.rank, now) ? 1 : 0));
  return ranked.slice(0, diff).map((r) => r.pod);
}

/**
 * slowStartBatch: runs fn `count` times in batches of 1, 2, 4, … in parallel, stopping at
 * the first batch with a failure. Returns the successes and that batch's first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failed.length;
    if (failed.length) return { successes, error: failed[0].reason };
    remaining -= batch;
  }
  return { successes };
}

/** controller.GetPodFromTemplate: labels, annotations and finalizers of the template, generateName `<owner>-`. */
export function podFromTemplate(template: KObject, owner: KObject, ref: OwnerReference): KObject {
  const meta = template.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata!.name}-`,
      namespace: owner.metadata!.namespace,
      ownerReferences: [ref],
    },
    spec: structuredClone(template.spec ?? {}),
  };
  if (meta.labels && Object.keys(meta.labels).length) pod.metadata!.labels = { ...meta.labels };
  if (meta.annotations && Object.keys(meta.annotations).length) pod.metadata!.annotations = { ...meta.annotations };
  if (meta.finalizers?.length) pod.metadata!.finalizers = [...meta.finalizers];
  return pod;
}
