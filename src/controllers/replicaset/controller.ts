/**
 * @module The ReplicaSet controller (kube-controller-manager's replicaset controller): keeps
 * spec.replicas active pods matching each ReplicaSet's selector, adopting and releasing
 * pods through controller references, creating in slow-start batches and deleting the
 * least valuable pods first, guarded by expectations; always recomputes status.
 */
import { selectorFromSet } from '../../api/selectors/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import { keyOf, Resources, splitKey, WorkQueue, type Client, type EventRecorder, type Informer, type InformerFactory } from '../../client/index.js';
import {
  claimObjects,
  ControllerExpectations,
  controllerOf,
  controllerRefOf,
  errorMessage,
  isNamespaceTerminating,
  isNotFound,
  isPodActive,
  isPodAvailable,
  isPodReady,
  newControllerRef,
  ownersSelecting,
  ownersToSync,
  parseSelector,
  podFromTemplate,
  podKey,
  rfc3339,
  runController,
  semanticEqual,
  slowStartBatch,
  slowStartInitialBatchSize,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { podsToDelete } from './pods.js';

/** kube's burstReplicas: at most this many creations or deletions per sync. */
export const burstReplicas = 500;
/** statusUpdateRetries: one re-read and retry after a failed status write. */
const statusUpdateRetries = 1;

const rsKind = 'ReplicaSet';
const rsApiVersion = 'apps/v1';

export interface ReplicaSetControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  now: () => Date;
  log?: (msg: Record<string, unknown>) => void;
  burstReplicas?: number;
}

/** A ReplicaSet condition (apps/v1 ReplicaSetCondition). */
interface RsCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  readonly queue = new WorkQueue({ name: 'replicaset' });
  readonly expectations: ControllerExpectations;
  readonly rsInformer: Informer;
  readonly podInformer: Informer;
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;
  private readonly log: (msg: Record<string, unknown>) => void;
  private readonly burst: number;

  constructor(opts: ReplicaSetControllerOptions) {
    this.client = opts.client;
    this.recorder = opts.recorder;
    this.now = opts.now;
    this.log = opts.log ?? (() => {});
    this.burst = opts.burstReplicas ?? burstReplicas;
    this.expectations = new ControllerExpectations(() => this.now().getTime());
    this.rsInformer = opts.informers.for(Resources.replicasets);
    this.podInformer = opts.informers.for(Resources.pods);
    this.rsInformer.addEventHandlers({
      add: (rs) => this.enqueue(rs),
      update: (old, cur) => {
        // A re-created namesake: forget the old one's expectations first.
        if (old.metadata?.uid !== cur.metadata?.uid) this.expectations.delete(keyOf(old));
        this.enqueue(cur);
      },
      delete: (rs) => {
        this.expectations.delete(keyOf(rs));
        this.queue.add(keyOf(rs));
      },
    });
    this.podInformer.addEventHandlers({
      add: (pod) => this.addPod(pod),
      update: (old, cur) => this.updatePod(old, cur),
      delete: (pod) => this.deletePod(pod),
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.log, signal, {
      informers: [this.rsInformer, this.podInformer],
      pools: [{ queue: this.queue, workers, sync: (key) => this.sync(key) }],
    });
  }

  private enqueue(rs: KObject): void {
    this.queue.add(keyOf(rs));
  }

  private addPod(pod: KObject): void {
    // A pod already being deleted (seen after a restart) is no creation to observe.
    if (pod.metadata?.deletionTimestamp) return this.deletePod(pod);
    if (controllerRefOf(pod)) {
      const rs = controllerOf(this.rsInformer, rsKind, pod);
      if (!rs) return;
      this.expectations.creationObserved(keyOf(rs));
      this.enqueue(rs);
      return;
    }
    // An orphan: wake every ReplicaSet that might adopt it (no creation was expected).
    for (const rs of ownersSelecting(this.rsInformer, pod)) this.enqueue(rs);
  }

  private updatePod(old: KObject, cur: KObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    if (cur.metadata?.deletionTimestamp) {
      // A graceful delete shows first as a deletionTimestamp: replace the pod now, not when the kubelet finishes.
      this.deletePod(cur);
      if (!semanticEqual(old.metadata?.labels, cur.metadata?.labels)) this.deletePod(old);
      return;
    }
    for (const rs of ownersToSync(this.rsInformer, rsKind, cur, old)) this.enqueue(rs);
    // Availability needs minReadySeconds to pass after readiness: look again then (plus a second of skew).
    const rs = controllerOf(this.rsInformer, rsKind, cur);
    const minReady = rs?.spec?.minReadySeconds ?? 0;
    if (rs && !isPodReady(old) && isPodReady(cur) && minReady > 0) this.queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
  }

  private deletePod(pod: KObject): void {
    const rs = controllerOf(this.rsInformer, rsKind, pod);
    if (!rs) return;
    const key = keyOf(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.add(key);
  }

  /** syncReplicaSet: the whole decision for one ReplicaSet key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.rsInformer.getByName(namespace, name);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const selector = parseSelector(cached.spec?.selector);
    if (!selector) {
      this.log({ level: 'warn', msg: 'invalid selector', controller: this.name, key });
      return;
    }
    // Every pod of the namespace: owned pods whose labels no longer match must be released.
    const active = this.podInformer.byNamespace(namespace ?? '').filter(isPodActive);
    const pods = await claimObjects(active, {
      client: this.client,
      resource: Resources.pods,
      controller: cached,
      controllerResource: Resources.replicasets,
      controllerApiVersion: rsApiVersion,
      controllerKind: rsKind,
      match: (pod) => selector.matches(pod.metadata?.labels),
    });
    let manageError: unknown;
    if (needsSync && !cached.metadata?.deletionTimestamp) {
      try {
        await this.manageReplicas(pods, cached, key);
      } catch (err) {
        manageError = err;
      }
    } else if (!needsSync) {
      // Safety net for a lost watch event: look again once the expectations expire.
      const wait = this.expectations.remainingMs(key);
      if (wait > 0) this.queue.addAfter(key, wait + 1);
    }
    const status = this.calculateStatus(cached, pods, manageError);
    const updated = await this.updateStatus(cached, status);
    const replicas = updated.spec?.replicas ?? 1;
    const minReady = updated.spec?.minReadySeconds ?? 0;
    // Resync after minReadySeconds, the last line of defence against clock skew.
    if (manageError === undefined && minReady > 0 && (updated.status?.readyReplicas ?? 0) === replicas && (updated.status?.availableReplicas ?? 0) !== replicas)
      this.queue.addAfter(key, minReady * 1000);
    if (manageError !== undefined) throw manageError;
  }

  /** manageReplicas: create or delete pods to reach spec.replicas. */
  private async manageReplicas(pods: KObject[], rs: KObject, key: string): Promise<void> {
    const replicas = rs.spec?.replicas ?? 1;
    let diff = pods.length - replicas;
    if (diff < 0) {
      diff = Math.min(-diff, this.burst);
      this.expectations.expectCreations(key, diff);
      const ref = newControllerRef(rs, rsApiVersion, rsKind);
      const { successes, error } = await slowStartBatch(diff, slowStartInitialBatchSize, () => this.createPod(rs, ref, key));
      // Pods never attempted will never be observed: stop expecting them.
      for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
      return;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burst);
      const victims = podsToDelete(pods, this.relatedPods(rs), diff, this.now());
      this.expectations.expectDeletions(key, victims.map(podKey));
      const results = await Promise.allSettled(victims.map((pod) => this.deletePodOf(rs, pod, key)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** RealPodControl.CreatePods with the SuccessfulCreate / FailedCreate events. */
  private async createPod(rs: KObject, ref: OwnerReference, key: string): Promise<void> {
    const pod = podFromTemplate(rs.spec?.template ?? {}, rs, ref);
    if (!pod.metadata?.labels || Object.keys(pod.metadata.labels).length === 0) throw new Error('unable to create pods, no labels');
    try {
      const created = await this.client.create(Resources.pods, rs.metadata!.namespace, pod);
      this.recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
    } catch (err) {
      // A terminating namespace refuses new pods; that is no failure of this ReplicaSet.
      if (isNamespaceTerminating(err)) {
        this.expectations.creationObserved(key);
        return;
      }
      this.recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** RealPodControl.DeletePod with the SuccessfulDelete / FailedDelete events; lowers expectations on failure. */
  private async deletePodOf(rs: KObject, pod: KObject, key: string): Promise<void> {
    try {
      await this.client.delete(Resources.pods, pod.metadata!.namespace, pod.metadata!.name!);
      this.recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata!.name}`);
    } catch (err) {
      // The informer will never see this deletion.
      this.expectations.deletionObserved(key, podKey(pod));
      if (isNotFound(err)) return;
      this.recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** getIndirectlyRelatedPods: pods of every ReplicaSet with the same controller owner (e.g. one Deployment's ReplicaSets). */
  private relatedPods(rs: KObject): KObject[] {
    const owner = controllerRefOf(rs);
    const siblings = owner
      ? this.rsInformer.byNamespace(rs.metadata!.namespace!).filter((o) => controllerRefOf(o)?.uid === owner.uid)
      : [rs];
    const uids = new Set(siblings.map((o) => o.metadata?.uid));
    return this.podInformer.byNamespace(rs.metadata!.namespace!).filter((p) => {
      const ref = controllerRefOf(p);
      return ref !== undefined && uids.has(ref.uid);
    });
  }

  /** calculateStatus: counts over the claimed active pods, and the ReplicaFailure condition. */
  calculateStatus(rs: KObject, pods: KObject[], manageError: unknown): KObject {
    const status: KObject = structuredClone(rs.status ?? {});
    const template = selectorFromSet(rs.spec?.template?.metadata?.labels);
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const now = this.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      if (template.matches(pod.metadata?.labels)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now.getTime())) available++;
      }
    }
    const conditions: RsCondition[] = status.conditions ?? [];
    const failure = conditions.find((c) => c.type === 'ReplicaFailure');
    if (manageError !== undefined && !failure) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
      status.conditions = [
        ...conditions,
        { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: errorMessage(manageError) },
      ];
    } else if (manageError === undefined && failure) {
      status.conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
    }
    status.replicas = pods.length;
    status.fullyLabeledReplicas = fullyLabeled;
    status.readyReplicas = ready;
    status.availableReplicas = available;
    return status;
  }

  /** updateReplicaSetStatus: skip when nothing changed; else write with observedGeneration, one retry on a fresh read. */
  private async updateStatus(rs: KObject, status: KObject): Promise<KObject> {
    const old = rs.status ?? {};
    const unchanged =
      (old.replicas ?? 0) === status.replicas &&
      (old.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (old.readyReplicas ?? 0) === status.readyReplicas &&
      (old.availableReplicas ?? 0) === status.availableReplicas &&
      (rs.metadata?.generation ?? 0) === (old.observedGeneration ?? 0) &&
      semanticEqual(old.conditions, status.conditions);
    if (unchanged) return rs;
    const next = compactRsStatus({ ...status, observedGeneration: rs.metadata?.generation });
    let current = rs;
    for (let i = 0; ; i++) {
      try {
        return await this.client.update(Resources.replicasets, current.metadata!.namespace, { ...current, status: next }, { subresource: 'status' });
      } catch (err) {
        if (i >= statusUpdateRetries) throw err;
        current = await this.client.get(Resources.replicasets, current.metadata!.namespace, current.metadata!.name!);
      }
    }
  }
}

/** ReplicaSetStatus as kube serializes it: replicas always, the other counts and conditions omitted when empty. */
function compactRsStatus(s: KObject): KObject {
  const out: KObject = { replicas: s.replicas ?? 0 };
  for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'] as const) if (s[k]) out[k] = s[k];
  if (s.conditions?.length) out.conditions = s.conditions;
  for (const [k, v] of Object.entries(s)) if (!(k in out) && !['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration', 'conditions', 'replicas'].includes(k)) out[k] = v;
  return out;
}

/** Builds the controller from the shared context, with `replicaset-controller` events. */
export function newReplicaSetController(ctx: ControllerContext): ReplicaSetController {
  return new ReplicaSetController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder('replicaset-controller'),
    now: ctx.now,
    log: ctx.log,
  });
}
