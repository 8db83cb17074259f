/**
 * @module kube-controller-manager's statefulset-controller: pods `<set>-<ordinal>` with a
 * stable identity (hostname, subdomain, pod-name and pod-index labels) and their own
 * PersistentVolumeClaims from volumeClaimTemplates; OrderedReady (one at a time, each
 * predecessor Running and Ready, scale down from the top) or Parallel management; rolling
 * updates from the highest ordinal down to the partition, or OnDelete; revisions named
 * `<set>-<template hash>` carried by the controller-revision-hash label.
 */
import { fromLabelSelector } from '../../api/selectors/index.js';
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import {
  claimCandidates,
  claimObjects,
  computeHash,
  controllerOf,
  DelayedRequeue,
  errorMessage,
  indexByControllerUid,
  isAlreadyExists,
  isConflict,
  isNotFound,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  ownersToSync,
  podFromTemplate,
  runController,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';

export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
export const podIndexLabel = 'apps.kubernetes.io/pod-index';
export const revisionLabel = 'controller-revision-hash';

/** Templates remembered per revision name (ControllerRevisions are not served yet). */
const maxRememberedTemplates = 2048;

/** A StatefulSet member: `<parent>-<ordinal>`; -1 when the name has no ordinal. */
export function parentAndOrdinal(podName: string): { parent: string; ordinal: number } {
  const m = /^(.*)-([0-9]+)$/.exec(podName);
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number.parseInt(m[2], 10);
  return { parent: m[1], ordinal: n <= 2147483647 ? n : -1 };
}

/** The update revision's name; kube always hashes a collision count here (0 when unset). */
export function revisionName(set: KObject): string {
  return `${set.metadata?.name}-${computeHash(set.spec?.template ?? {}, set.status?.collisionCount ?? 0)}`;
}

/** isMemberOf: the pod's name is `<set>-<ordinal>`. */
function isMemberOf(set: KObject, pod: KObject): boolean {
  return parentAndOrdinal(pod.metadata?.name ?? '').parent === set.metadata?.name;
}

function podRevision(pod: KObject): string {
  return pod.metadata?.labels?.[revisionLabel] ?? '';
}

function isTerminating(pod: KObject): boolean {
  return !!pod.metadata?.deletionTimestamp;
}

/** isRunningAndReady, with the pod.alpha.kubernetes.io/initialized=false debug override. */
function isRunningAndReady(pod: KObject): boolean {
  if (pod.status?.phase !== 'Running') return false;
  if (pod.metadata?.annotations?.['pod.alpha.kubernetes.io/initialized'] === 'false') return false;
  return isPodReady(pod);
}

/** One desired member: the pod in the cache, or the one this sync would create. */
interface Slot {
  pod: KObject;
  exists: boolean;
}

interface SetStatus {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  readonly queue = new WorkQueue({ name: 'statefulset' });
  readonly requeue = new DelayedRequeue(this.queue);
  private readonly sets: Informer;
  private readonly pods: Informer;
  private readonly claims: Informer;
  private readonly recorder: EventRecorder;
  /** "ns/revision name" → pod template, to recreate pods at the current revision during a partitioned update. */
  private readonly templates = new Map<string, KObject>();

  constructor(private readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('statefulset-controller');
    this.sets = ctx.informers.for(Resources.statefulsets);
    this.pods = ctx.informers.for(Resources.pods);
    this.claims = ctx.informers.for(Resources.persistentvolumeclaims);
    indexByControllerUid(this.pods);
    this.sets.addEventHandlers({
      add: (s) => this.queue.add(keyOf(s)),
      update: (_o, s) => this.queue.add(keyOf(s)),
      delete: (s) => this.queue.add(keyOf(s)),
    });
    this.pods.addEventHandlers({
      add: (p) => this.onPod(undefined, p),
      update: (o, p) => this.onPod(o, p),
      delete: (p) => this.onPodDeleted(p),
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.sets, this.pods, this.claims],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
      stopped: () => this.requeue.stop(),
    });
  }

  private onPod(old: KObject | undefined, pod: KObject): void {
    if (old && old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    for (const set of ownersToSync(this.sets, 'StatefulSet', pod, old)) this.queue.add(keyOf(set));
  }

  /** A deleted member wakes its set; a deleted orphan concerns nobody. */
  private onPodDeleted(pod: KObject): void {
    const set = controllerOf(this.sets, 'StatefulSet', pod);
    if (set) this.queue.add(keyOf(set));
  }

  private rememberTemplate(ns: string, revision: string, template: KObject): void {
    const key = `${ns}/${revision}`;
    this.templates.delete(key);
    this.templates.set(key, template);
    if (this.templates.size > maxRememberedTemplates) this.templates.delete(this.templates.keys().next().value!);
  }

  async sync(key: string): Promise<void> {
    const set = this.sets.get(key);
    if (!set) return;
    const ns = set.metadata?.namespace ?? '';
    const selector = fromLabelSelector(set.spec?.selector);
    const candidates = claimCandidates(this.pods, set);
    // Only members are claimed: an owned pod whose name is not `<set>-<ordinal>` is released.
    const pods = await claimObjects(candidates, {
      client: this.ctx.client,
      resource: Resources.pods,
      controller: set,
      controllerResource: Resources.statefulsets,
      controllerApiVersion: 'apps/v1',
      controllerKind: 'StatefulSet',
      match: (p) => selector.matches(p.metadata?.labels) && isMemberOf(set, p),
    });
    const updateRevision = revisionName(set);
    const template: KObject = set.spec?.template ?? {};
    this.rememberTemplate(ns, updateRevision, template);
    const currentRevision: string = set.status?.currentRevision || updateRevision;
    const currentTemplate = this.templates.get(`${ns}/${currentRevision}`);

    const status: SetStatus = {
      observedGeneration: set.metadata?.generation ?? 0,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision,
      updateRevision,
      collisionCount: set.status?.collisionCount ?? 0,
    };
    let error: unknown;
    try {
      await this.updateStatefulSet(set, pods, status, currentTemplate, template);
    } catch (err) {
      error = err;
    }
    await this.writeStatus(set, status);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status.availableReplicas !== (set.spec?.replicas ?? 1)) this.requeue.after(key, minReady * 1000);
    if (error) throw error;
  }

  /** updateStatefulSet: acts toward the desired members and fills `status` from what exists. */
  private async updateStatefulSet(set: KObject, pods: KObject[], status: SetStatus, currentTemplate: KObject | undefined, updateTemplate: KObject): Promise<void> {
    const name = set.metadata!.name!;
    const start: number = set.spec?.ordinals?.start ?? 0;
    const replicaCount: number = set.spec?.replicas ?? 1;
    const minReady: number = set.spec?.minReadySeconds ?? 0;
    const now = this.ctx.now().getTime();
    const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    const replicas: Array<Slot | undefined> = new Array(replicaCount).fill(undefined);
    const condemned: KObject[] = [];
    for (const pod of pods) {
      const { parent, ordinal } = parentAndOrdinal(pod.metadata?.name ?? '');
      if (parent !== name || ordinal < 0) continue;
      if (ordinal >= start && ordinal < start + replicaCount) replicas[ordinal - start] = { pod, exists: true };
      else condemned.push(pod);
    }
    for (let i = 0; i < replicaCount; i++) replicas[i] ??= { pod: this.newVersionedPod(set, start + i, status, currentTemplate, updateTemplate), exists: false };
    const slots = replicas as Slot[];
    condemned.sort((a, b) => parentAndOrdinal(b.metadata!.name!).ordinal - parentAndOrdinal(a.metadata!.name!).ordinal);

    const isUnavailable = (s: Slot) => !s.exists || !isRunningAndReady(s.pod) || isTerminating(s.pod) || !isPodAvailable(s.pod, minReady, now);
    let firstUnhealthy: KObject | undefined = slots.find(isUnavailable)?.pod;
    if (!firstUnhealthy) for (let i = condemned.length - 1; i >= 0 && !firstUnhealthy; i--) if (isUnavailable({ pod: condemned[i], exists: true })) firstUnhealthy = condemned[i];

    const recount = () => this.countStatus(status, [...slots.filter((s) => s.exists).map((s) => s.pod), ...condemned], minReady, now);
    recount();
    if (set.metadata?.deletionTimestamp) return;

    // Members first, in ordinal order; in OrderedReady mode the first that is not yet
    // Running and Ready (or was just created) stops the sync.
    const processReplica = async (s: Slot): Promise<boolean> => {
      const pod = s.pod;
      const phase = pod.status?.phase;
      if (s.exists && (phase === 'Failed' || phase === 'Succeeded')) {
        // A finished member is replaced: delete now, recreate once it is gone.
        if (!isTerminating(pod)) await this.deletePod(set, pod);
        return true;
      }
      if (!s.exists) {
        await this.createPod(set, pod);
        s.exists = true;
        return monotonic;
      }
      if (phase === 'Pending') await this.createMissingClaims(set, pod);
      if (monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isPodAvailable(pod, minReady, now))) return true;
      await this.fixIdentity(set, pod);
      return false;
    };
    if (monotonic) {
      for (const s of slots) if (await processReplica(s)) return recount();
    } else {
      const results = await Promise.allSettled(slots.map(async (s) => processReplica(s)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        recount();
        throw failed.reason;
      }
    }

    // Then scale down, from the highest ordinal; in OrderedReady mode one pod at a time and
    // only once every remaining member is healthy.
    const processCondemned = async (pod: KObject): Promise<boolean> => {
      if (isTerminating(pod)) return monotonic;
      if (monotonic && pod !== firstUnhealthy && (!isRunningAndReady(pod) || !isPodAvailable(pod, minReady, now))) return true;
      await this.applyScaleDownRetention(set, pod);
      await this.deletePod(set, pod);
      return true;
    };
    if (monotonic) {
      for (const pod of condemned) if (await processCondemned(pod)) return recount();
    } else if (condemned.length) {
      const results = await Promise.allSettled(condemned.map(processCondemned));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      recount();
      if (failed) throw failed.reason;
      return;
    }
    recount();

    if (set.spec?.updateStrategy?.type === 'OnDelete') return;
    // Rolling update: the highest-ordinal member not at the update revision is deleted (and
    // recreated at it by a later sync); one at a time, each replacement Ready first.
    const partition: number = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let target = slots.length - 1; target >= partition; target--) {
      const s = slots[target];
      if (s.exists && podRevision(s.pod) !== status.updateRevision && !isTerminating(s.pod)) {
        try {
          await this.deletePod(set, s.pod);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        status.currentReplicas--;
        return;
      }
      if (isUnavailable(s)) return;
    }
  }

  /** computeReplicaStatus over the pods that exist. */
  private countStatus(status: SetStatus, pods: KObject[], minReady: number, now: number): void {
    status.replicas = pods.length;
    status.readyReplicas = 0;
    status.availableReplicas = 0;
    status.currentReplicas = 0;
    status.updatedReplicas = 0;
    for (const pod of pods) {
      if (isRunningAndReady(pod)) {
        status.readyReplicas++;
        if (isPodAvailable(pod, minReady, now)) status.availableReplicas++;
      }
      if (isTerminating(pod)) continue;
      if (podRevision(pod) === status.currentRevision) status.currentReplicas++;
      if (podRevision(pod) === status.updateRevision) status.updatedReplicas++;
    }
  }

  /**
   * newVersionedStatefulSetPod: members below the partition (while an update is in
   * progress) are created at the current revision, the rest at the update revision. Without
   * the current template (after a restart; ControllerRevisions are not served) the update
   * revision is used.
   */
  private newVersionedPod(set: KObject, ordinal: number, status: SetStatus, currentTemplate: KObject | undefined, updateTemplate: KObject): KObject {
    const strategy = set.spec?.updateStrategy ?? {};
    const start: number = set.spec?.ordinals?.start ?? 0;
    const partition: number = strategy.rollingUpdate?.partition ?? 0;
    const useCurrent =
      strategy.type !== 'OnDelete' && status.currentRevision !== status.updateRevision && currentTemplate !== undefined && ordinal < start + partition;
    return this.newPod(set, ordinal, useCurrent ? currentTemplate : updateTemplate, useCurrent ? status.currentRevision : status.updateRevision);
  }

  /** newStatefulSetPod: the template with the member's identity and claims. */
  private newPod(set: KObject, ordinal: number, template: KObject, revision: string): KObject {
    const podName = `${set.metadata?.name}-${ordinal}`;
    const pod = podFromTemplate(template, set, newControllerRef(set, 'apps/v1', 'StatefulSet'));
    pod.metadata!.name = podName;
    pod.metadata!.labels = { ...(pod.metadata!.labels ?? {}), [podNameLabel]: podName, [podIndexLabel]: String(ordinal), [revisionLabel]: revision };
    pod.spec.hostname = podName;
    if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
    const claimVolumes = ((set.spec?.volumeClaimTemplates ?? []) as KObject[]).map((c) => ({
      name: c.metadata?.name,
      persistentVolumeClaim: { claimName: this.claimName(set, c, ordinal) },
    }));
    if (claimVolumes.length) {
      const names = new Set(claimVolumes.map((v) => v.name));
      pod.spec.volumes = [...claimVolumes, ...((pod.spec.volumes ?? []) as KObject[]).filter((v) => !names.has(v.name))];
    }
    return pod;
  }

  private claimName(set: KObject, claimTemplate: KObject, ordinal: number): string {
    return `${claimTemplate.metadata?.name}-${set.metadata?.name}-${ordinal}`;
  }

  /** The member's claims as the templates describe them (labels: template's plus the selector's matchLabels). */
  private claimsFor(set: KObject, ordinal: number): Array<KObject & { metadata: { name: string; namespace: string } }> {
    const retainOnDelete = (set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain') === 'Retain';
    return ((set.spec?.volumeClaimTemplates ?? []) as KObject[]).map((t) => {
      const meta: KObject = {
        name: this.claimName(set, t, ordinal),
        namespace: set.metadata?.namespace,
        labels: { ...(t.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
      };
      if (t.metadata?.annotations) meta.annotations = { ...t.metadata.annotations };
      // whenDeleted: Delete hands the claim to the garbage collector with the set.
      if (!retainOnDelete) meta.ownerReferences = [newControllerRef(set, 'apps/v1', 'StatefulSet')];
      return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta as { name: string; namespace: string }, spec: structuredClone(t.spec ?? {}) };
    });
  }

  /** createPersistentVolumeClaims: creates the member's missing claims; a claim being deleted blocks. */
  private async createMissingClaims(set: KObject, pod: KObject): Promise<void> {
    const { ordinal } = parentAndOrdinal(pod.metadata!.name!);
    const errors: string[] = [];
    for (const claim of this.claimsFor(set, ordinal)) {
      const existing = this.claims.getByName(claim.metadata.namespace, claim.metadata.name);
      if (existing) {
        if (existing.metadata?.deletionTimestamp) errors.push(`pvc ${claim.metadata.name} is being deleted`);
        continue;
      }
      try {
        await this.ctx.client.create(Resources.persistentvolumeclaims, claim.metadata.namespace, claim);
        this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        const msg = errorMessage(err);
        this.recorder.event(set, 'Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${msg}`);
        errors.push(`failed to create PVC ${claim.metadata.name}: ${msg}`);
      }
    }
    if (errors.length) throw new Error(errors.join(', '));
  }

  /** CreateStatefulPod: claims first, then the pod. */
  private async createPod(set: KObject, pod: KObject): Promise<void> {
    const podName = pod.metadata?.name;
    try {
      await this.createMissingClaims(set, pod);
    } catch (err) {
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata?.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    try {
      await this.ctx.client.create(Resources.pods, set.metadata?.namespace, pod);
    } catch (err) {
      // Our cache is behind: the pod is there; the next sync will see it.
      if (isAlreadyExists(err)) throw err;
      this.recorder.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata?.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${set.metadata?.name} successful`);
  }

  private async deletePod(set: KObject, pod: KObject): Promise<void> {
    try {
      await this.ctx.client.delete(Resources.pods, pod.metadata?.namespace, pod.metadata!.name!);
    } catch (err) {
      this.recorder.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
    this.recorder.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name} in StatefulSet ${set.metadata?.name} successful`);
  }

  /** identityMatches / UpdateStatefulPod: the identity labels a member must carry. */
  private async fixIdentity(set: KObject, pod: KObject): Promise<void> {
    const podName = pod.metadata!.name!;
    const { ordinal } = parentAndOrdinal(podName);
    const labels = pod.metadata?.labels ?? {};
    if (labels[podNameLabel] === podName && labels[podIndexLabel] === String(ordinal)) return;
    try {
      await this.ctx.client.patch(Resources.pods, pod.metadata?.namespace, podName, 'merge', { metadata: { labels: { [podNameLabel]: podName, [podIndexLabel]: String(ordinal) } } });
      this.recorder.event(set, 'Normal', 'SuccessfulUpdate', `update Pod ${podName} in StatefulSet ${set.metadata?.name} successful`);
    } catch (err) {
      if (isNotFound(err)) return;
      this.recorder.event(set, 'Warning', 'FailedUpdate', `update Pod ${podName} in StatefulSet ${set.metadata?.name} failed error: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** whenScaled: Delete — the condemned member's claims are handed to the garbage collector with the pod. */
  private async applyScaleDownRetention(set: KObject, pod: KObject): Promise<void> {
    if ((set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain') !== 'Delete') return;
    const { ordinal } = parentAndOrdinal(pod.metadata!.name!);
    for (const claim of this.claimsFor(set, ordinal)) {
      const existing = this.claims.getByName(claim.metadata.namespace, claim.metadata.name);
      if (!existing || (existing.metadata?.ownerReferences ?? []).some((r) => r.uid === pod.metadata?.uid)) continue;
      const ref = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, uid: pod.metadata!.uid! };
      try {
        await this.ctx.client.patch(Resources.persistentvolumeclaims, claim.metadata.namespace, claim.metadata.name, 'strategic', { metadata: { ownerReferences: [ref] } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** updateStatefulSetStatus: completes a finished rolling update, writes only on change. */
  private async writeStatus(set: KObject, status: SetStatus): Promise<void> {
    if (set.spec?.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    const old = set.status ?? {};
    const fields = Object.keys(status) as Array<keyof SetStatus>;
    if (fields.every((f) => (old[f] ?? (typeof status[f] === 'number' ? 0 : '')) === status[f])) return;
    let target: KObject = set;
    for (let attempt = 0; ; attempt++) {
      const next = { ...target, status: { ...(target.status ?? {}), ...status } };
      try {
        await this.ctx.client.update(Resources.statefulsets, set.metadata?.namespace, next, { subresource: 'status' });
        return;
      } catch (err) {
        // The status is ours alone: retry on a fresh read, as kube's status updater does.
        if (attempt >= 3 || !isConflict(err)) throw err;
        target = await this.ctx.client.get(Resources.statefulsets, set.metadata?.namespace, set.metadata!.name!);
        if (target.metadata?.uid !== set.metadata?.uid) return;
      }
    }
  }
}
