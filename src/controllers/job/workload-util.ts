/**
 * @module What kube-controller-manager's workload controllers share (pkg/controller's
 * controller_utils.go, pod utilities and ControllerRefManager): controller references, pod
 * readiness and availability, pods from templates, template hashes, expectations, slow-start
 * batches and adoption/release of dependents. Used by the job, cronjob, statefulset and
 * daemonset controllers.
 */
import { ApiError } from '../../api/errors.js';
import { labelSelectorMatches, type LabelSelectorObject } from '../../api/selectors/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import type { Client, Gvr } from '../../client/index.js';

/** How long a controller waits for the cache to show its own writes before it stops trusting its expectations (kube: 5 min). */
export const expectationsTimeoutMs = 5 * 60 * 1000;

/** RFC 3339 with second precision, the way metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string' || !s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** metav1.GetControllerOf. */
export function controllerRefOf(obj: KObject | undefined): OwnerReference | undefined {
  return (obj?.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

/** metav1.NewControllerRef: the reference a controller puts on what it creates. */
export function newControllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** Whether obj's controller reference points at the given owner uid. */
export function isControlledBy(obj: KObject, ownerUid: string | undefined): boolean {
  return !!ownerUid && controllerRefOf(obj)?.uid === ownerUid;
}

// ---- pods ----

export function podPhase(pod: KObject): string {
  return pod.status?.phase ?? '';
}

export function isPodTerminal(pod: KObject): boolean {
  const p = podPhase(pod);
  return p === 'Succeeded' || p === 'Failed';
}

/** controller.IsPodActive: neither finished nor being deleted. */
export function isPodActive(pod: KObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp;
}

/** controller.IsPodTerminating: being deleted but not yet finished. */
export function isPodTerminating(pod: KObject): boolean {
  return !isPodTerminal(pod) && !!pod.metadata?.deletionTimestamp;
}

export function podCondition(pod: KObject, type: string): KObject | undefined {
  return ((pod.status?.conditions ?? []) as KObject[]).find((c) => c.type === type);
}

/** podutil.IsPodReady. */
export function isPodReady(pod: KObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: KObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = parseTime(podCondition(pod, 'Ready')?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

function restartCount(pod: KObject): number {
  return ((pod.status?.containerStatuses ?? []) as KObject[]).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePods ordering: the pods to remove first sort first — unscheduled before
 * scheduled, pending before running, not ready before ready, recently ready before long
 * ready, more restarts before fewer, newer before older.
 */
export function compareActivePodsForRemoval(a: KObject, b: KObject): number {
  const assigned = (p: KObject) => (p.spec?.nodeName ? 1 : 0);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const rank = (p: KObject) => phaseRank[podPhase(p)] ?? 0;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const ready = (p: KObject) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  if (ready(a) && ready(b)) {
    const ta = parseTime(podCondition(a, 'Ready')?.lastTransitionTime) ?? 0;
    const tb = parseTime(podCondition(b, 'Ready')?.lastTransitionTime) ?? 0;
    if (ta !== tb) return tb - ta;
  }
  if (restartCount(a) !== restartCount(b)) return restartCount(b) - restartCount(a);
  const ca = parseTime(a.metadata?.creationTimestamp) ?? 0;
  const cb = parseTime(b.metadata?.creationTimestamp) ?? 0;
  return cb - ca;
}

/**
 * controller.GetPodFromTemplate: the template's labels, annotations, finalizers and spec,
 * owned by the controller. The caller names the pod (name or generateName).
 */
export function podFromTemplate(template: KObject | undefined, controllerRef: OwnerReference): KObject {
  const meta: KObject = template?.metadata ?? {};
  const pod: KObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
  if (Array.isArray(meta.finalizers) && meta.finalizers.length) pod.metadata!.finalizers = [...meta.finalizers];
  if (Object.keys(pod.metadata!.annotations!).length === 0) delete pod.metadata!.annotations;
  return pod;
}

/** The generateName prefix of a controller's pods ("<name>-"). */
export function podNamePrefix(controllerName: string): string {
  return `${controllerName}-`;
}

// ---- hashes ----

/** JSON with object keys sorted, so equal objects hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString's alphabet: no vowels (no words) and no look-alike characters. */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * controller.ComputeHash: FNV-32a over the template (and the collision count when set),
 * its decimal form mapped through the safe alphabet ("5d8c7b9f4c").
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  const text = canonicalJson(template) + (collisionCount ? `#${collisionCount}` : '');
  const digits = String(fnv32a(text));
  let out = '';
  for (const ch of digits) out += safeAlphabet[ch.charCodeAt(0) % safeAlphabet.length];
  return out;
}

// ---- expectations ----

interface Expectation {
  add: number;
  del: number;
  at: number;
}

/**
 * controller.ControllerExpectations: how many creations and deletions a controller still
 * expects to see in its cache. While any are outstanding the controller does not act on
 * counts (a stale cache would make it create or delete twice); they expire after 5 min.
 */
export class Expectations {
  private readonly map = new Map<string, Expectation>();

  constructor(private readonly nowMs: () => number) {}

  /** Replaces the key's expectations (SetExpectations). */
  expect(key: string, adds: number, dels: number): void {
    this.map.set(key, { add: adds, del: dels, at: this.nowMs() });
  }

  creationObserved(key: string): void {
    const e = this.map.get(key);
    if (e) e.add--;
  }

  deletionObserved(key: string): void {
    const e = this.map.get(key);
    if (e) e.del--;
  }

  satisfied(key: string): boolean {
    const e = this.map.get(key);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.nowMs() - e.at > expectationsTimeoutMs;
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

// ---- batches ----

/**
 * controller.slowStartBatch: runs `count` calls in batches of 1, 2, 4, … so that a failing
 * create (quota, admission) fails once instead of `count` times. Returns the successes
 * and the first error; calls after a failed batch are skipped.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: (i: number) => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let successes = 0;
  let next = 0;
  for (let size = Math.min(count, initialBatchSize); size > 0; size = Math.min(2 * size, count - next)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn(next++)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += size - failed.length;
    if (failed.length) return { successes, error: failed[0].reason };
  }
  return { successes };
}

// ---- adoption ----

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason !== 'AlreadyExists';
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'AlreadyExists';
}

export interface ClaimOptions {
  client: Client;
  resource: Gvr;
  owner: KObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: LabelSelectorObject | undefined;
  /** Extra condition an orphan must meet to be adopted (StatefulSet: its name says it is a member). */
  canAdoptObject?: (obj: KObject) => boolean;
  /** Finalizers added on adoption (Job: the tracking finalizer). */
  adoptFinalizers?: string[];
  log?: (msg: Record<string, unknown>) => void;
}

/**
 * ControllerRefManager.ClaimObjects: the objects a controller owns — its own that still
 * match its selector — adopting matching orphans and releasing its own that no longer
 * match. Objects owned by another controller are left alone. Returned objects may be
 * fresh copies from the API (after adoption) or the cache's (never mutate those).
 */
export async function claimObjects(candidates: KObject[], opts: ClaimOptions): Promise<KObject[]> {
  const { client, resource, owner } = opts;
  const ownerUid = owner.metadata?.uid;
  const claimed: KObject[] = [];
  for (const obj of candidates) {
    const ref = controllerRefOf(obj);
    const matches = labelSelectorMatches(opts.selector, obj.metadata?.labels);
    const meta = obj.metadata!;
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches || owner.metadata?.deletionTimestamp) {
        claimed.push(obj);
        continue;
      }
      // Ours but no longer selected: release it (strategic merge deletes our reference by uid).
      try {
        await client.patch(resource, meta.namespace, meta.name!, 'strategic', {
          metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: meta.uid },
        });
      } catch (err) {
        if (!isNotFound(err) && !(err instanceof ApiError && err.code === 422)) throw err;
      }
      continue;
    }
    if (!matches || owner.metadata?.deletionTimestamp || meta.deletionTimestamp) continue;
    if (opts.canAdoptObject && !opts.canAdoptObject(obj)) continue;
    try {
      const patchMeta: KObject = { ownerReferences: [newControllerRef(owner, opts.ownerApiVersion, opts.ownerKind)], uid: meta.uid };
      const missing = (opts.adoptFinalizers ?? []).filter((f) => !(meta.finalizers ?? []).includes(f));
      if (missing.length) patchMeta.finalizers = [...(meta.finalizers ?? []), ...missing];
      const adopted = await client.patch(resource, meta.namespace, meta.name!, 'strategic', { metadata: patchMeta });
      opts.log?.({ level: 'info', msg: 'adopted', kind: obj.kind, name: meta.name, owner: owner.metadata?.name });
      claimed.push(adopted);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return claimed;
}

/** An index function: the uid of an object's controller. Share the name "controllerUid" only with this meaning. */
export function controllerUidIndex(obj: KObject): string[] {
  const uid = controllerRefOf(obj)?.uid;
  return uid ? [uid] : [];
}

/** core/v1 ObjectReference of an object (CronJob status.active). */
export function objectReference(obj: KObject): KObject {
  return {
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
    uid: obj.metadata?.uid,
    apiVersion: obj.apiVersion,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

/** Deep structural equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
