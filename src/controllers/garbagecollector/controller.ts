/**
 * @module The garbage collector (kube-controller-manager's garbagecollector): the
 * ownerReferences of every watched object form the dependency graph, read straight from
 * the shared informer caches through two indexes (object by uid, dependents by owner uid).
 * Dependents whose owners are all gone are deleted; an owner deleted in the foreground
 * keeps its `foregroundDeletion` finalizer until its blocking dependents are gone; an
 * owner deleted with the `orphan` finalizer first has its ownerReferences stripped from
 * its dependents. Owner absence is always confirmed with a live GET (absent, or another uid).
 */
import type { KObject, OwnerReference } from '../../api/types.js';
import { WorkQueue, type Client, type Informer } from '../../client/index.js';
import { isConflict, isNotFound, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { knownResources, resourceForKind, servedResources, type KnownResource } from './resources.js';

export const foregroundDeletionFinalizer = 'foregroundDeletion';
export const orphanFinalizer = 'orphan';

const uidIndex = 'gc:uid';
const ownerIndex = 'gc:owner-uid';
const maxConflictRetries = 5;
/** How many owners known to be absent are remembered (kube's absentOwnerCache holds 500). */
const absentOwnerCacheSize = 500;

type OwnerState = 'solid' | 'dangling' | 'waitingForDependentsDeletion';

interface Watched {
  resource: KnownResource;
  informer: Informer;
}

export interface GarbageCollectorOptions {
  /**
   * The resources to watch. Absent: every known resource the server serves, found by
   * probing at run() (unit tests pass the list to skip the probe).
   */
  resources?: readonly KnownResource[];
}

function ownerRefs(obj: KObject): OwnerReference[] {
  return obj.metadata?.ownerReferences ?? [];
}

function hasFinalizer(obj: KObject, name: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(name);
}

/** Being deleted in the foreground: deletionTimestamp plus the foregroundDeletion finalizer. */
export function isDeletingDependents(obj: KObject): boolean {
  return !!obj.metadata?.deletionTimestamp && hasFinalizer(obj, foregroundDeletionFinalizer);
}

function isOrphaning(obj: KObject): boolean {
  return !!obj.metadata?.deletionTimestamp && hasFinalizer(obj, orphanFinalizer);
}

export class GarbageCollector implements Controller {
  readonly name = 'garbagecollector';
  /** attemptToDelete: dependents to verify, and owners being deleted in the foreground. Keys are uids. */
  readonly deleteQueue: WorkQueue;
  /** attemptToOrphan: owners carrying the orphan finalizer. Keys are uids. */
  readonly orphanQueue: WorkQueue;
  private watched: Watched[] = [];
  private readonly absentOwners = new Map<string, true>();
  private readonly client: Client;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: GarbageCollectorOptions = {},
  ) {
    this.client = ctx.client;
    this.deleteQueue = new WorkQueue({ name: 'garbage_collector_attempt_to_delete' });
    this.orphanQueue = new WorkQueue({ name: 'garbage_collector_attempt_to_orphan' });
    if (opts.resources) this.watch(opts.resources);
  }

  /** Wires one informer per resource: indexes first (handlers of one informer read the others' indexes), then handlers. */
  private watch(resources: readonly KnownResource[]): void {
    this.watched = resources.map((resource) => ({ resource, informer: this.ctx.informers.for(resource.gvr) }));
    for (const { informer } of this.watched) {
      informer.addIndex(uidIndex, (o) => (o.metadata?.uid ? [o.metadata.uid] : []));
      informer.addIndex(ownerIndex, (o) => ownerRefs(o).map((ref) => ref.uid).filter(Boolean));
    }
    for (const { informer } of this.watched) {
      informer.addEventHandlers({
        add: (obj) => this.onChange(undefined, obj),
        update: (oldObj, newObj) => this.onChange(oldObj, newObj),
        delete: (obj) => this.onDelete(obj),
      });
    }
  }

  // ---- graph changes (kube's GraphBuilder.processGraphChanges) ----

  private onChange(oldObj: KObject | undefined, obj: KObject): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    this.absentOwners.delete(uid);
    if (isDeletingDependents(obj)) this.deleteQueue.add(uid);
    if (isOrphaning(obj)) this.orphanQueue.add(uid);
    // A dependent whose owner is not in any cache may be dangling: verify it.
    if (!obj.metadata?.deletionTimestamp && ownerRefs(obj).some((ref) => this.ownerMissingFromCache(ref))) this.deleteQueue.add(uid);
    if (oldObj) {
      // An owner waiting on this dependent is unblocked when the reference goes or stops blocking.
      const now = new Map(ownerRefs(obj).map((ref) => [ref.uid, ref]));
      for (const ref of ownerRefs(oldObj)) {
        const cur = now.get(ref.uid);
        if (ref.blockOwnerDeletion && (!cur || !cur.blockOwnerDeletion)) this.enqueueOwnerIfWaiting(ref.uid);
      }
    }
  }

  private onDelete(obj: KObject): void {
    const uid = obj.metadata?.uid;
    if (!uid) return;
    this.rememberAbsent(uid);
    for (const dep of this.dependentsOf(uid)) if (dep.metadata?.uid) this.deleteQueue.add(dep.metadata.uid);
    for (const ref of ownerRefs(obj)) this.enqueueOwnerIfWaiting(ref.uid);
  }

  private enqueueOwnerIfWaiting(ownerUid: string): void {
    const owner = this.byUid(ownerUid);
    if (owner && isDeletingDependents(owner.obj)) this.deleteQueue.add(ownerUid);
  }

  private ownerMissingFromCache(ref: OwnerReference): boolean {
    if (!ref.uid || !resourceForKind(this.resources(), ref.apiVersion, ref.kind)) return false;
    return !this.byUid(ref.uid);
  }

  private rememberAbsent(uid: string): void {
    this.absentOwners.set(uid, true);
    if (this.absentOwners.size > absentOwnerCacheSize) this.absentOwners.delete(this.absentOwners.keys().next().value!);
  }

  // ---- cache reads ----

  private resources(): KnownResource[] {
    return this.watched.map((w) => w.resource);
  }

  private byUid(uid: string): { resource: KnownResource; obj: KObject } | undefined {
    for (const { resource, informer } of this.watched) {
      const hit = informer.byIndex(uidIndex, uid)[0];
      if (hit) return { resource, obj: hit };
    }
    return undefined;
  }

  /** Every cached object naming uid among its owners. */
  dependentsOf(uid: string): KObject[] {
    return this.watched.flatMap(({ informer }) => informer.byIndex(ownerIndex, uid));
  }

  private dependentsWithResource(uid: string): Array<{ resource: KnownResource; obj: KObject }> {
    return this.watched.flatMap(({ resource, informer }) => informer.byIndex(ownerIndex, uid).map((obj) => ({ resource, obj })));
  }

  // ---- run ----

  async run(signal: AbortSignal, workers: number): Promise<void> {
    if (!this.opts.resources) this.watch(await servedResources(this.client, knownResources));
    return runController(this.name, this.ctx.log, signal, {
      informers: this.watched.map((w) => w.informer),
      pools: [
        { queue: this.deleteQueue, workers: Math.max(1, workers), sync: (uid) => this.attemptToDelete(uid) },
        { queue: this.orphanQueue, workers: Math.max(1, Math.ceil(workers / 2)), sync: (uid) => this.attemptToOrphan(uid) },
      ],
    });
  }

  // ---- attemptToDelete ----

  /**
   * kube's attemptToDeleteItem for the object with this uid: an owner being deleted in the
   * foreground waits for its blocking dependents; any other object is deleted when none
   * of its owners is solid, or loses the references to owners that are gone.
   */
  async attemptToDelete(uid: string): Promise<void> {
    const item = this.byUid(uid);
    if (!item) return;
    const { resource } = item;
    if (item.obj.metadata?.deletionTimestamp && !isDeletingDependents(item.obj)) return;
    const latest = await this.getLive(resource, item.obj.metadata?.namespace, item.obj.metadata!.name!);
    if (!latest || latest.metadata?.uid !== uid) return;
    if (isDeletingDependents(latest)) return this.processDeletingDependents(resource, latest);
    if (latest.metadata?.deletionTimestamp) return;
    const refs = ownerRefs(latest);
    if (refs.length === 0) return;

    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const state = await this.classify(latest, ref);
      (state === 'solid' ? solid : state === 'dangling' ? dangling : waiting).push(ref);
    }

    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Some owner still holds the object: drop only the references to owners that are gone or going.
      await this.removeOwnerReferences(resource, latest, new Set([...dangling, ...waiting].map((ref) => ref.uid)));
      return;
    }
    if (waiting.length > 0 && this.dependentsOf(uid).length > 0) {
      // An owner waits for its dependents: this dependent goes the same way, in the foreground.
      await this.deleteObject(resource, latest, 'Foreground');
      return;
    }
    const policy = hasFinalizer(latest, orphanFinalizer) ? 'Orphan' : hasFinalizer(latest, foregroundDeletionFinalizer) ? 'Foreground' : 'Background';
    this.ctx.log({
      level: 'info',
      component: 'garbage-collector-controller',
      msg: 'deleting object whose owners are all gone',
      object: `${resource.gvr.resource}/${latest.metadata?.namespace ? `${latest.metadata.namespace}/` : ''}${latest.metadata?.name}`,
      uid,
      propagationPolicy: policy,
    });
    await this.deleteObject(resource, latest, policy);
  }

  /** kube's processDeletingDependentsItem: delete dependents, release the owner once no blocking one is left. */
  private async processDeletingDependents(resource: KnownResource, owner: KObject): Promise<void> {
    const uid = owner.metadata!.uid!;
    const dependents = this.dependentsOf(uid);
    const blocking = dependents.filter((d) => ownerRefs(d).some((ref) => ref.uid === uid && ref.blockOwnerDeletion === true));
    if (blocking.length === 0) {
      await this.removeFinalizer(resource, owner, foregroundDeletionFinalizer);
      return;
    }
    for (const dep of dependents) {
      const depUid = dep.metadata?.uid;
      if (depUid && (!dep.metadata?.deletionTimestamp || isDeletingDependents(dep))) this.deleteQueue.add(depUid);
    }
  }

  /** Whether the owner a reference names still exists (live, by uid), and whether it waits for its dependents. */
  private async classify(dependent: KObject, ref: OwnerReference): Promise<OwnerState> {
    const resource = resourceForKind(this.resources(), ref.apiVersion, ref.kind);
    // An owner of a kind nobody serves cannot be checked; kube keeps such dependents too.
    if (!resource) return 'solid';
    if (this.absentOwners.has(ref.uid)) return 'dangling';
    const namespace = dependent.metadata?.namespace;
    // A cluster-scoped dependent cannot be owned by a namespaced object.
    if (resource.namespaced && !namespace) return 'dangling';
    const owner = await this.getLive(resource, resource.namespaced ? namespace : undefined, ref.name);
    if (!owner || owner.metadata?.uid !== ref.uid) {
      this.rememberAbsent(ref.uid);
      return 'dangling';
    }
    return isDeletingDependents(owner) ? 'waitingForDependentsDeletion' : 'solid';
  }

  // ---- attemptToOrphan ----

  /** kube's attemptToOrphan: strip the owner's reference from every dependent, then drop the orphan finalizer. */
  async attemptToOrphan(uid: string): Promise<void> {
    const item = this.byUid(uid);
    if (!item || !isOrphaning(item.obj)) return;
    const errors: unknown[] = [];
    for (const dep of this.dependentsWithResource(uid)) {
      try {
        await this.removeOwnerReferences(dep.resource, dep.obj, new Set([uid]));
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new Error(`orphaning dependents of ${uid}: ${errors.map(String).join('; ')}`);
    await this.removeFinalizer(item.resource, item.obj, orphanFinalizer);
  }

  // ---- writes ----

  private async getLive(resource: KnownResource, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    try {
      return await this.client.get(resource.gvr, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async deleteObject(resource: KnownResource, obj: KObject, policy: 'Background' | 'Foreground' | 'Orphan'): Promise<void> {
    try {
      await this.client.delete(resource.gvr, obj.metadata?.namespace, obj.metadata!.name!, { propagationPolicy: policy, preconditions: { uid: obj.metadata!.uid } });
    } catch (err) {
      // Gone already, or replaced by another object of the same name (the uid precondition failed).
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }

  /**
   * Read-modify-write of metadata: a merge patch computed from the current object, with its
   * resourceVersion as precondition, computed again from a fresh read on conflict; `change`
   * returns undefined once there is nothing left to change.
   */
  private async patchMetadata(resource: KnownResource, obj: KObject, change: (current: KObject) => KObject | undefined): Promise<void> {
    let current: KObject | undefined = obj;
    for (let attempt = 0; ; attempt++) {
      if (!current) return;
      const metadata = change(current);
      if (!metadata) return;
      try {
        await this.client.patch(resource.gvr, current.metadata?.namespace, current.metadata!.name!, 'merge', {
          metadata: { resourceVersion: current.metadata?.resourceVersion, ...metadata },
        });
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err) || attempt >= maxConflictRetries) throw err;
      }
      const fresh = await this.getLive(resource, obj.metadata?.namespace, obj.metadata!.name!);
      current = fresh?.metadata?.uid === obj.metadata?.uid ? fresh : undefined;
    }
  }

  /** Drops the references to the given owner uids. */
  private removeOwnerReferences(resource: KnownResource, obj: KObject, uids: Set<string>): Promise<void> {
    return this.patchMetadata(resource, obj, (current) => {
      const refs = ownerRefs(current);
      const kept = refs.filter((ref) => !uids.has(ref.uid));
      return kept.length === refs.length ? undefined : { ownerReferences: kept.length ? kept : null };
    });
  }

  /** Removing the last finalizer of an object with a deletionTimestamp completes its deletion. */
  private removeFinalizer(resource: KnownResource, obj: KObject, finalizer: string): Promise<void> {
    return this.patchMetadata(resource, obj, (current) => {
      if (!hasFinalizer(current, finalizer)) return undefined;
      const kept = (current.metadata?.finalizers ?? []).filter((f) => f !== finalizer);
      return { finalizers: kept.length ? kept : null };
    });
  }
}
