/**
 * @module The Deployment controller (kube-controller-manager's deployment controller):
 * owns ReplicaSets named `<deployment>-<pod-template-hash>`, rolls from old to new ones
 * (RollingUpdate within maxSurge/maxUnavailable, or Recreate), scales proportionally,
 * keeps revisions and revisionHistoryLimit, honours pause and rollback, and reports
 * progress through the Progressing and Available conditions.
 */
import { fromLabelSelector } from '../../api/selectors/index.js';
import type { KObject } from '../../api/types.js';
import { keyOf, Resources, splitKey, WorkQueue, type Client, type EventRecorder, type Informer, type InformerFactory } from '../../client/index.js';
import {
  claimObjects,
  computeHash,
  controllerOf,
  controllerRefOf,
  errorMessage,
  isAlreadyExists,
  isNamespaceTerminating,
  isNotFound,
  newControllerRef,
  ownersToSync,
  parseSelector,
  runController,
  semanticEqual,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  availableReplicaCount,
  actualReplicaCount,
  byCreationTimestamp,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  calculateStatus,
  compactDeploymentStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  filterActive,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getCondition,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isSaturated,
  lastRevision,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newCondition,
  newRSNewReplicas,
  podTemplateHashLabel,
  proportion,
  Reasons,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  revisionAnnotation,
  revisionOf,
  rollbackToAnnotation,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  skipCopyAnnotation,
  specReplicaCount,
  desiredReplicasAnnotation,
  type DeploymentCondition,
} from './util.js';

const deploymentKind = 'Deployment';
const deploymentApiVersion = 'apps/v1';

export interface DeploymentControllerOptions {
  client: Client;
  informers: InformerFactory;
  recorder: EventRecorder;
  now: () => Date;
  log?: (msg: Record<string, unknown>) => void;
}

/** A failed ReplicaSet create that already bumped collisionCount: retry with the new hash. */
export class HashCollisionError extends Error {
  constructor(readonly replicaSetName: string) {
    super(`hash collision on ReplicaSet ${replicaSetName}`);
  }
}

export class DeploymentController implements Controller {
  readonly name = 'deployment';
  readonly queue = new WorkQueue({ name: 'deployment' });
  readonly deploymentInformer: Informer;
  readonly rsInformer: Informer;
  readonly podInformer: Informer;
  private readonly client: Client;
  private readonly recorder: EventRecorder;
  private readonly now: () => Date;
  private readonly log: (msg: Record<string, unknown>) => void;

  constructor(opts: DeploymentControllerOptions) {
    this.client = opts.client;
    this.recorder = opts.recorder;
    this.now = opts.now;
    this.log = opts.log ?? (() => {});
    this.deploymentInformer = opts.informers.for(Resources.deployments);
    this.rsInformer = opts.informers.for(Resources.replicasets);
    this.podInformer = opts.informers.for(Resources.pods);
    this.deploymentInformer.addEventHandlers({
      add: (d) => this.enqueue(d),
      update: (_old, cur) => this.enqueue(cur),
      delete: (d) => this.enqueue(d),
    });
    this.rsInformer.addEventHandlers({
      add: (rs) => this.addReplicaSet(rs),
      update: (old, cur) => this.updateReplicaSet(old, cur),
      delete: (rs) => this.deleteReplicaSet(rs),
    });
    this.podInformer.addEventHandlers({ delete: (pod) => this.deletePod(pod) });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.log, signal, {
      informers: [this.deploymentInformer, this.rsInformer, this.podInformer],
      pools: [{ queue: this.queue, workers, sync: (key) => this.sync(key) }],
    });
  }

  private enqueue(d: KObject): void {
    this.queue.add(keyOf(d));
  }

  // ---- event handlers: they only find the Deployment to enqueue ----

  private addReplicaSet(rs: KObject): void {
    if (rs.metadata?.deletionTimestamp) return this.deleteReplicaSet(rs);
    for (const d of ownersToSync(this.deploymentInformer, deploymentKind, rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: KObject, cur: KObject): void {
    if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
    for (const d of ownersToSync(this.deploymentInformer, deploymentKind, cur, old)) this.enqueue(d);
  }

  private deleteReplicaSet(rs: KObject): void {
    const d = controllerOf(this.deploymentInformer, deploymentKind, rs);
    if (d) this.enqueue(d);
  }

  /** A Recreate Deployment waits for its old pods to be gone: wake it when the last one goes. */
  private deletePod(pod: KObject): void {
    const rs = controllerOf(this.rsInformer, 'ReplicaSet', pod);
    const d = rs && controllerOf(this.deploymentInformer, deploymentKind, rs);
    if (!d || d.spec?.strategy?.type !== 'Recreate') return;
    const rsList = this.rsInformer.byNamespace(d.metadata!.namespace!).filter((o) => controllerRefOf(o)?.uid === d.metadata?.uid);
    const podMap = this.podMapFor(d, rsList);
    let pods = 0;
    for (const list of podMap.values()) pods += list.length;
    if (pods === 0) this.enqueue(d);
  }

  // ---- the sync ----

  /** syncDeployment: the whole decision for one Deployment key. */
  async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.deploymentInformer.getByName(namespace, name);
    if (!cached) return;
    const d = structuredClone(cached);
    const sel = d.spec?.selector;
    if (sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0) {
      this.recorder.event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.status?.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata?.generation };
        await this.writeStatus(d);
      }
      return;
    }
    const rsList = await this.replicaSetsFor(d);
    const podMap = this.podMapFor(d, rsList);
    if (d.metadata?.deletionTimestamp) return this.syncStatusOnly(d, rsList);
    await this.checkPausedConditions(d);
    if (d.spec?.paused) return this.syncScaleAndStatus(d, rsList);
    if (rollbackTo(d) !== undefined) return this.rollback(d, rsList);
    if (await this.isScalingEvent(d, rsList)) return this.syncScaleAndStatus(d, rsList);
    switch (d.spec?.strategy?.type) {
      case 'Recreate':
        return this.rolloutRecreate(d, rsList, podMap);
      case 'RollingUpdate':
        return this.rolloutRolling(d, rsList);
    }
    throw new Error(`unexpected deployment strategy type: ${d.spec?.strategy?.type}`);
  }

  /** getReplicaSetsForDeployment: the namespace's ReplicaSets claimed through controller references. */
  private async replicaSetsFor(d: KObject): Promise<KObject[]> {
    const selector = fromLabelSelector(d.spec?.selector);
    return claimObjects(this.rsInformer.byNamespace(d.metadata!.namespace!), {
      client: this.client,
      resource: Resources.replicasets,
      controller: d,
      controllerResource: Resources.deployments,
      controllerApiVersion: deploymentApiVersion,
      controllerKind: deploymentKind,
      match: (rs) => selector.matches(rs.metadata?.labels),
    });
  }

  /** getPodMapForDeployment: the Deployment's selected pods, grouped by the uid of their owning ReplicaSet. */
  private podMapFor(d: KObject, rsList: KObject[]): Map<string, KObject[]> {
    const map = new Map<string, KObject[]>();
    for (const rs of rsList) map.set(rs.metadata!.uid!, []);
    const selector = parseSelector(d.spec?.selector);
    if (!selector) return map;
    for (const pod of this.podInformer.byNamespace(d.metadata!.namespace!)) {
      if (!selector.matches(pod.metadata?.labels)) continue;
      const ref = controllerRefOf(pod);
      if (ref && map.has(ref.uid)) map.get(ref.uid)!.push(pod);
    }
    return map;
  }

  /** Writes d.status (and the revision annotation kube lets through /status) and keeps d's resourceVersion current. */
  private async writeStatus(d: KObject): Promise<void> {
    d.status = compactDeploymentStatus(d.status ?? {});
    const written = await this.client.update(Resources.deployments, d.metadata!.namespace, d, { subresource: 'status' });
    d.metadata!.resourceVersion = written.metadata?.resourceVersion;
    d.status = written.status ?? {};
  }

  /** checkPausedConditions: Progressing Unknown with DeploymentPaused / DeploymentResumed when pausing flips. */
  private async checkPausedConditions(d: KObject): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getCondition(d.status, 'Progressing');
    if (cond?.reason === Reasons.timedOut) return;
    const pausedCondExists = cond?.reason === Reasons.paused;
    const status = (d.status ??= {});
    if (d.spec?.paused && !pausedCondExists) setCondition(status, newCondition('Progressing', 'Unknown', Reasons.paused, 'Deployment is paused', this.now()));
    else if (!d.spec?.paused && pausedCondExists) setCondition(status, newCondition('Progressing', 'Unknown', Reasons.resumed, 'Deployment is resumed', this.now()));
    else return;
    await this.writeStatus(d);
  }

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and every old one. */
  private async allReplicaSetsAndSyncRevision(d: KObject, rsList: KObject[], createIfNotExisted: boolean): Promise<{ newRS?: KObject; oldRSs: KObject[] }> {
    const oldRSs = findOldReplicaSets(d, rsList);
    const newRS = await this.newReplicaSet(d, rsList, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  /**
   * getNewReplicaSet: brings an existing new ReplicaSet's annotations, revision and
   * minReadySeconds up to date, or creates it (named by the template hash, with the hash
   * in its selector and template) sized by the strategy.
   */
  private async newReplicaSet(d: KObject, rsList: KObject[], oldRSs: KObject[], createIfNotExisted: boolean): Promise<KObject | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const minReadySeconds = d.spec?.minReadySeconds ?? 0;
    if (existing) {
      const rsCopy = structuredClone(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      if (annotationsUpdated || (rsCopy.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
        rsCopy.spec.minReadySeconds = minReadySeconds;
        const updated = await this.client.update(Resources.replicasets, rsCopy.metadata!.namespace, rsCopy);
        // Later steps of this sync read rsList again: let them see what was written.
        rsList[rsList.indexOf(existing)] = updated;
        return updated;
      }
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata?.annotations?.[revisionAnnotation] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        setCondition((d.status ??= {}), newCondition('Progressing', 'True', Reasons.foundNewRS, `Found new replica set "${rsCopy.metadata!.name}"`, this.now()));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return rsCopy;
    }
    if (!createIfNotExisted) return undefined;

    const template = structuredClone(d.spec?.template ?? {});
    const hash = computeHash(template, d.status?.collisionCount);
    template.metadata ??= {};
    template.metadata.labels = { ...(d.spec?.template?.metadata?.labels ?? {}), [podTemplateHashLabel]: hash };
    const selector = structuredClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [podTemplateHashLabel]: hash };
    const rsName = `${d.metadata!.name}-${hash}`;
    const fresh: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: d.metadata!.namespace,
        ownerReferences: [newControllerRef(d, deploymentApiVersion, deploymentKind)],
        labels: { ...template.metadata.labels },
      },
      spec: { replicas: 0, selector, template, ...(minReadySeconds ? { minReadySeconds } : {}) },
    };
    const replicas = newRSNewReplicas(d, [...oldRSs, fresh], fresh);
    fresh.spec.replicas = replicas;
    setNewReplicaSetAnnotations(d, fresh, newRevision, false);

    let createdRS: KObject;
    let alreadyExists = false;
    try {
      createdRS = await this.client.create(Resources.replicasets, d.metadata!.namespace, fresh);
    } catch (err) {
      if (isAlreadyExists(err)) {
        alreadyExists = true;
        const rs = this.rsInformer.getByName(d.metadata!.namespace, rsName) ?? (await this.client.get(Resources.replicasets, d.metadata!.namespace, rsName));
        const ref = controllerRefOf(rs);
        if (ref && ref.uid === d.metadata?.uid && equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
          createdRS = rs;
        } else {
          // A different template hashed to an existing name: bump collisionCount so the next sync picks another name.
          d.status ??= {};
          d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
          await this.writeStatus(d);
          throw new HashCollisionError(rsName);
        }
      } else if (isNamespaceTerminating(err)) {
        throw err;
      } else {
        const msg = `Failed to create new replica set "${rsName}": ${errorMessage(err)}`;
        if (hasProgressDeadline(d)) {
          setCondition((d.status ??= {}), newCondition('Progressing', 'False', Reasons.failedRSCreate, msg, this.now()));
          await this.writeStatus(d).catch(() => undefined);
        }
        this.recorder.event(d, 'Warning', Reasons.failedRSCreate, msg);
        throw err;
      }
    }
    if (!alreadyExists && replicas > 0)
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${createdRS.metadata!.name} from 0 to ${replicas}`);
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition((d.status ??= {}), newCondition('Progressing', 'True', Reasons.newRSCreated, `Created new replica set "${createdRS.metadata!.name}"`, this.now()));
      needsUpdate = true;
    }
    if (needsUpdate) await this.writeStatus(d);
    return createdRS;
  }

  /** isScalingEvent: an active ReplicaSet was sized for a different replica count than the Deployment's. */
  private async isScalingEvent(d: KObject, rsList: KObject[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = rs.metadata?.annotations?.[desiredReplicasAnnotation];
      if (desired === undefined || !/^-?\d+$/.test(desired)) continue;
      if (Number(desired) !== replicasOf(d)) return true;
    }
    return false;
  }

  /** sync: scale (proportionally when mid-rollout), clean up history when paused, recompute status. */
  private async syncScaleAndStatus(d: KObject, rsList: KObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, false);
    const scaled = await this.scale(d, newRS, oldRSs);
    const current = (rs: KObject | undefined) => (rs ? (scaled.get(rs.metadata!.uid!) ?? rs) : rs);
    const olds = oldRSs.map((rs) => current(rs)!);
    if (d.spec?.paused && rollbackTo(d) === undefined) await this.cleanupDeployment(olds, d);
    await this.syncDeploymentStatus([...olds, current(newRS)], current(newRS), d);
  }

  /**
   * scale: the only active (or the newest) ReplicaSet takes the full count; a saturated
   * new ReplicaSet empties the old ones; otherwise, for RollingUpdate, the difference to
   * replicas + maxSurge is spread over active ReplicaSets in proportion to their size
   * (leftovers to the largest). Returns the ReplicaSets it wrote, by uid.
   */
  private async scale(d: KObject, newRS: KObject | undefined, oldRSs: KObject[]): Promise<Map<string, KObject>> {
    const written = new Map<string, KObject>();
    const record = (rs: KObject) => written.set(rs.metadata!.uid!, rs);
    const replicas = replicasOf(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) !== replicas) record((await this.scaleReplicaSetAndRecordEvent(activeOrLatest, replicas, d)).rs);
      return written;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) record((await this.scaleReplicaSetAndRecordEvent(old, 0, d)).rs);
      return written;
    }
    if (d.spec?.strategy?.type !== 'RollingUpdate') return written;
    const all = filterActive([...oldRSs, newRS]);
    const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowedSize - specReplicaCount(all);
    let operation = '';
    if (toAdd > 0) {
      all.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      all.sort(bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const p = proportion(rs, d, toAdd, added);
        sizes.set(rs.metadata!.name!, replicasOf(rs) + p);
        added += p;
      } else sizes.set(rs.metadata!.name!, replicasOf(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i];
      if (i === 0 && toAdd !== 0) sizes.set(rs.metadata!.name!, Math.max(0, sizes.get(rs.metadata!.name!)! + toAdd - added));
      const out = await this.scaleReplicaSet(rs, sizes.get(rs.metadata!.name!)!, d, operation);
      record(out.rs);
    }
    return written;
  }

  private async scaleReplicaSetAndRecordEvent(rs: KObject, newScale: number, d: KObject): Promise<{ scaled: boolean; rs: KObject }> {
    if (replicasOf(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, replicasOf(rs) < newScale ? 'up' : 'down');
  }

  /** scaleReplicaSet: writes spec.replicas and the replicas annotations; the ScalingReplicaSet event when the size moved. */
  private async scaleReplicaSet(rs: KObject, newScale: number, d: KObject, operation: string): Promise<{ scaled: boolean; rs: KObject }> {
    const sizeNeedsUpdate = replicasOf(rs) !== newScale;
    const max = replicasOf(d) + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return { scaled: false, rs };
    const oldScale = replicasOf(rs);
    const copy = structuredClone(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, replicasOf(d), max);
    const updated = await this.client.update(Resources.replicasets, copy.metadata!.namespace, copy);
    if (sizeNeedsUpdate) {
      this.recorder.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${updated.metadata!.name} from ${oldScale} to ${newScale}`);
      return { scaled: true, rs: updated };
    }
    return { scaled: false, rs: updated };
  }

  /** rolloutRolling: scale the new ReplicaSet up within maxSurge, else old ones down within maxUnavailable. */
  private async rolloutRolling(d: KObject, rsList: KObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, true);
    let nrs = newRS!;
    let allRSs: KObject[] = [...oldRSs, nrs];
    const up = await this.reconcileNewReplicaSet(allRSs, nrs, d);
    if (up.scaled) {
      nrs = up.rs;
      return this.syncRolloutStatus([...oldRSs, nrs], nrs, d);
    }
    const down = await this.reconcileOldReplicaSets(allRSs, filterActive(oldRSs), nrs, d);
    const olds = oldRSs.map((rs) => down.written.get(rs.metadata!.uid!) ?? rs);
    allRSs = [...olds, nrs];
    if (down.scaled > 0) return this.syncRolloutStatus(allRSs, nrs, d);
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(olds, d);
    return this.syncRolloutStatus(allRSs, nrs, d);
  }

  private async reconcileNewReplicaSet(allRSs: KObject[], newRS: KObject, d: KObject): Promise<{ scaled: boolean; rs: KObject }> {
    const replicas = replicasOf(d);
    if (replicasOf(newRS) === replicas) return { scaled: false, rs: newRS };
    if (replicasOf(newRS) > replicas) return this.scaleReplicaSetAndRecordEvent(newRS, replicas, d);
    return this.scaleReplicaSetAndRecordEvent(newRS, newRSNewReplicas(d, allRSs, newRS), d);
  }

  /**
   * reconcileOldReplicaSets: how far old ReplicaSets may shrink keeps replicas -
   * maxUnavailable available, counting the new ReplicaSet's unavailable pods against it;
   * unhealthy old replicas go first.
   */
  private async reconcileOldReplicaSets(allRSs: KObject[], oldRSs: KObject[], newRS: KObject, d: KObject): Promise<{ scaled: number; written: Map<string, KObject> }> {
    const written = new Map<string, KObject>();
    const oldPods = specReplicaCount(oldRSs);
    if (oldPods === 0) return { scaled: 0, written };
    const allPods = specReplicaCount(allRSs);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { scaled: 0, written };

    // cleanupUnhealthyReplicas
    const olds = [...oldRSs].sort(byCreationTimestamp);
    let cleaned = 0;
    for (let i = 0; i < olds.length; i++) {
      if (cleaned >= maxScaledDown) break;
      const rs = olds[i];
      const available = rs.status?.availableReplicas ?? 0;
      if (replicasOf(rs) === 0 || replicasOf(rs) === available) continue;
      const count = Math.min(maxScaledDown - cleaned, replicasOf(rs) - available);
      const out = await this.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - count, d);
      olds[i] = out.rs;
      written.set(rs.metadata!.uid!, out.rs);
      cleaned += count;
    }

    // scaleDownOldReplicaSetsForRollingUpdate
    const all = [...olds, newRS];
    const availablePods = availableReplicaCount(all);
    let scaledDown = 0;
    if (availablePods > minAvailable) {
      const target = availablePods - minAvailable;
      olds.sort(byCreationTimestamp);
      for (const rs of olds) {
        if (scaledDown >= target) break;
        if (replicasOf(rs) === 0) continue;
        const count = Math.min(replicasOf(rs), target - scaledDown);
        const out = await this.scaleReplicaSetAndRecordEvent(rs, replicasOf(rs) - count, d);
        written.set(rs.metadata!.uid!, out.rs);
        scaledDown += count;
      }
    }
    return { scaled: cleaned + scaledDown, written };
  }

  /** rolloutRecreate: old ReplicaSets to zero, wait until their pods are gone, then the new one to full size. */
  private async rolloutRecreate(d: KObject, rsList: KObject[], podMap: Map<string, KObject[]>): Promise<void> {
    // No new ReplicaSet yet: creating it now would scale up before the old ones are down.
    let { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, false);
    let scaledDown = false;
    oldRSs = [...oldRSs];
    for (let i = 0; i < oldRSs.length; i++) {
      if (replicasOf(oldRSs[i]) === 0) continue;
      const out = await this.scaleReplicaSetAndRecordEvent(oldRSs[i], 0, d);
      if (out.scaled) {
        oldRSs[i] = out.rs;
        scaledDown = true;
      }
    }
    if (scaledDown) return this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
    if (oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
    if (!newRS) ({ newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, true));
    const up = await this.scaleReplicaSetAndRecordEvent(newRS!, replicasOf(d), d);
    newRS = up.rs;
    if (deploymentComplete(d, d.status ?? {})) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus([...oldRSs, newRS], newRS, d);
  }

  /** cleanupDeployment: deletes the oldest empty, settled ReplicaSets beyond revisionHistoryLimit. */
  private async cleanupDeployment(oldRSs: KObject[], d: KObject): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => rs && !rs.metadata?.deletionTimestamp);
    const diff = cleanable.length - d.spec.revisionHistoryLimit;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i];
      // Only ReplicaSets that are empty in spec and status and whose latest spec was observed.
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata?.deletionTimestamp) continue;
      try {
        await this.client.delete(Resources.replicasets, rs.metadata!.namespace, rs.metadata!.name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** syncStatusOnly: a Deployment being deleted only has its status kept current. */
  private async syncStatusOnly(d: KObject, rsList: KObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** syncDeploymentStatus: writes the computed status when it differs. */
  private async syncDeploymentStatus(allRSs: Array<KObject | undefined>, newRS: KObject | undefined, d: KObject): Promise<void> {
    const status = calculateStatus(allRSs, newRS, d, this.now());
    if (sameStatus(d.status, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /**
   * syncRolloutStatus: status plus the Progressing condition — NewReplicaSetAvailable when
   * complete, ReplicaSetUpdated while making progress, ProgressDeadlineExceeded once the
   * deadline passes without progress — and ReplicaFailure carried over from ReplicaSets.
   */
  private async syncRolloutStatus(allRSs: Array<KObject | undefined>, newRS: KObject | undefined, d: KObject): Promise<void> {
    const now = this.now();
    const status = calculateStatus(allRSs, newRS, d, now);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const currentCond = getCondition(d.status, 'Progressing');
    const isComplete = status.replicas === status.updatedReplicas && currentCond?.reason === Reasons.newRSAvailable;
    if (hasProgressDeadline(d) && !isComplete) {
      if (deploymentComplete(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" has successfully progressed.` : `Deployment "${d.metadata!.name}" has successfully progressed.`;
        setCondition(status, newCondition('Progressing', 'True', Reasons.newRSAvailable, msg, now));
      } else if (deploymentProgressing(d, status)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" is progressing.` : `Deployment "${d.metadata!.name}" is progressing.`;
        const cond = newCondition('Progressing', 'True', Reasons.replicaSetUpdated, msg, now);
        // Progress refreshes lastUpdateTime even when the reason stays the same.
        if (currentCond) {
          if (currentCond.status === 'True') cond.lastTransitionTime = currentCond.lastTransitionTime;
          removeCondition(status, 'Progressing');
        }
        setCondition(status, cond);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = newRS ? `ReplicaSet "${newRS.metadata!.name}" has timed out progressing.` : `Deployment "${d.metadata!.name}" has timed out progressing.`;
        setCondition(status, newCondition('Progressing', 'False', Reasons.timedOut, msg, now));
      }
    }
    const failure = replicaFailures(allRSs, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');
    if (sameStatus(d.status, status)) {
      this.requeueStuckDeployment(d, status, now);
      return;
    }
    d.status = status;
    await this.writeStatus(d);
  }

  /** requeueStuckDeployment: look again when the progress deadline would pass without news. */
  private requeueStuckDeployment(d: KObject, status: KObject, now: Date): void {
    const cond = getCondition(d.status, 'Progressing');
    if (!hasProgressDeadline(d) || !cond) return;
    if (deploymentComplete(d, status) || cond.reason === Reasons.timedOut) return;
    const after = (Date.parse(cond.lastUpdateTime ?? '') || 0) + d.spec.progressDeadlineSeconds * 1000 - now.getTime();
    if (after < 1000) this.queue.addRateLimited(keyOf(d));
    else this.queue.addAfter(keyOf(d), after + 1000);
  }

  /** rollback (the deprecated.deployment.rollback.to annotation of extensions/v1beta1 clients). */
  private async rollback(d: KObject, rsList: KObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.allReplicaSetsAndSyncRevision(d, rsList, true);
    const all = [...oldRSs, ...(newRS ? [newRS] : [])];
    let revision = rollbackTo(d)!;
    if (revision === 0) {
      revision = lastRevision(all);
      if (revision === 0) {
        this.recorder.event(d, 'Warning', 'DeploymentRollbackRevisionNotFound', 'Unable to find last revision.');
        return this.clearRollbackTo(d);
      }
    }
    for (const rs of all) {
      if (revisionOf(rs) !== revision) continue;
      if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
        const template = structuredClone(rs.spec.template);
        if (template.metadata?.labels) delete template.metadata.labels[podTemplateHashLabel];
        d.spec.template = template;
        const anns: Record<string, string> = {};
        for (const [k, v] of Object.entries((d.metadata?.annotations ?? {}) as Record<string, string>)) if (skipCopyAnnotation(k)) anns[k] = v;
        for (const [k, v] of Object.entries((rs.metadata?.annotations ?? {}) as Record<string, string>)) if (!skipCopyAnnotation(k)) anns[k] = v;
        d.metadata!.annotations = anns;
        await this.clearRollbackTo(d);
        this.recorder.event(d, 'Normal', 'DeploymentRollback', `Rolled back deployment "${d.metadata!.name}" to revision ${revision}`);
        return;
      }
      this.recorder.event(d, 'Warning', 'DeploymentRollbackTemplateUnchanged', `The rollback revision contains the same template as current deployment "${d.metadata!.name}"`);
      return this.clearRollbackTo(d);
    }
    this.recorder.event(d, 'Warning', 'DeploymentRollbackRevisionNotFound', 'Unable to find the revision to rollback to.');
    return this.clearRollbackTo(d);
  }

  private async clearRollbackTo(d: KObject): Promise<void> {
    if (d.metadata?.annotations) delete d.metadata.annotations[rollbackToAnnotation];
    await this.client.update(Resources.deployments, d.metadata!.namespace, d);
  }
}

/** getRollbackTo: the requested revision of the deprecated rollback annotation; undefined when absent or invalid. */
function rollbackTo(d: KObject): number | undefined {
  const v = d.metadata?.annotations?.[rollbackToAnnotation];
  if (!v || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** oldPodsRunning: old ReplicaSets still report replicas, or any of their pods is not terminal. */
export function oldPodsRunning(newRS: KObject | undefined, oldRSs: KObject[], podMap: Map<string, KObject[]>): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata?.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}

/** getReplicaFailures: the new ReplicaSet's ReplicaFailure condition, else any ReplicaSet's, as a Deployment condition. */
function replicaFailures(allRSs: Array<KObject | undefined>, newRS: KObject | undefined): DeploymentCondition | undefined {
  const toDeployment = (c: KObject): DeploymentCondition => ({
    type: c.type,
    status: c.status,
    lastUpdateTime: c.lastTransitionTime,
    lastTransitionTime: c.lastTransitionTime,
    reason: c.reason,
    message: c.message,
  });
  const find = (rs: KObject | undefined) => (rs?.status?.conditions as KObject[] | undefined)?.find((c) => c.type === 'ReplicaFailure');
  const own = find(newRS);
  if (own) return toDeployment(own);
  for (const rs of allRSs) {
    const c = find(rs);
    if (c) return toDeployment(c);
  }
  return undefined;
}

function sameStatus(a: KObject | undefined, b: KObject): boolean {
  return semanticEqual(compactDeploymentStatus(a ?? {}), compactDeploymentStatus(b));
}

/** Builds the controller from the shared context, with `deployment-controller` events. */
export function newDeploymentController(ctx: ControllerContext): DeploymentController {
  return new DeploymentController({
    client: ctx.client,
    informers: ctx.informers,
    recorder: ctx.recorder('deployment-controller'),
    now: ctx.now,
    log: ctx.log,
  });
}
