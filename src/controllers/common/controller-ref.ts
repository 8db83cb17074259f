/**
 * @module Controller references (metav1.GetControllerOf / NewControllerRef) and the lookups
 * every controller's event handlers make with them: the cached owner a reference names
 * (resolveControllerRef), the owners whose selector matches an orphan, and an informer
 * index of dependents by their controller's uid.
 */
import { fromLabelSelector, type LabelSelector } from '../../api/selectors/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import type { Informer } from '../../client/index.js';
import { semanticEqual } from './equality.js';

/** metav1.GetControllerOf: the owner reference with controller: true. */
export function controllerRefOf(obj: KObject | undefined): OwnerReference | undefined {
  return (obj?.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

/** metav1.NewControllerRef: the reference a controller puts on what it creates or adopts. */
export function newControllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * resolveControllerRef: the owner in the informer's cache that a controller reference
 * names — same kind, same namespace and name, and the same uid (a re-created namesake is
 * not the owner).
 */
export function resolveControllerRef(owners: Informer, kind: string, namespace: string | undefined, ref: OwnerReference | undefined): KObject | undefined {
  if (!ref || ref.kind !== kind) return undefined;
  const owner = owners.getByName(namespace, ref.name);
  return owner && owner.metadata?.uid === ref.uid ? owner : undefined;
}

/** The cached controller of `obj` among `owners` (of `kind`), if it still exists. */
export function controllerOf(owners: Informer, kind: string, obj: KObject): KObject | undefined {
  return resolveControllerRef(owners, kind, obj.metadata?.namespace, controllerRefOf(obj));
}

/** A label selector, or undefined when it does not parse (the caller skips that owner). */
export function parseSelector(sel: unknown): LabelSelector | undefined {
  try {
    return fromLabelSelector(sel as never);
  } catch {
    return undefined;
  }
}

/**
 * GetPodReplicaSets / GetPodJobs / GetPodDaemonSets / …: the owners in obj's namespace whose
 * selector matches its labels. An empty or invalid selector selects nothing here: an orphan
 * wakes only owners that could adopt it.
 */
export function ownersSelecting(owners: Informer, obj: KObject): KObject[] {
  const ns = obj.metadata?.namespace;
  if (!ns) return [];
  return owners.byNamespace(ns).filter((owner) => {
    const sel = parseSelector(owner.spec?.selector);
    return sel !== undefined && !sel.empty() && sel.matches(obj.metadata?.labels);
  });
}

/**
 * The owners an added or updated dependent concerns (the skeleton of kube's addPod /
 * updatePod handlers): the previous controller when the controller reference changed; the
 * current controller if it has one; otherwise — an orphan just added, or whose labels or
 * reference changed — every owner whose selector matches it, as any of them may adopt it.
 */
export function ownersToSync(owners: Informer, kind: string, cur: KObject, old?: KObject): KObject[] {
  const curRef = controllerRefOf(cur);
  const oldRef = controllerRefOf(old);
  const refChanged = old !== undefined && !semanticEqual(curRef, oldRef);
  const out: KObject[] = [];
  const previous = refChanged ? resolveControllerRef(owners, kind, old?.metadata?.namespace, oldRef) : undefined;
  if (previous) out.push(previous);
  if (curRef) {
    const controller = resolveControllerRef(owners, kind, cur.metadata?.namespace, curRef);
    if (controller) out.push(controller);
    return out;
  }
  if (!old || refChanged || !semanticEqual(old.metadata?.labels, cur.metadata?.labels)) out.push(...ownersSelecting(owners, cur));
  return out;
}

/** Name of the index `controllerUidIndex` builds; register it under this name only. */
export const controllerUidIndexName = 'controllerUid';

/** An index function: the uid of an object's controller. */
export function controllerUidIndex(obj: KObject): string[] {
  const uid = controllerRefOf(obj)?.uid;
  return uid ? [uid] : [];
}

/** Indexes the informer's objects by their controller's uid (see `controlledBy`). */
export function indexByControllerUid(informer: Informer): void {
  informer.addIndex(controllerUidIndexName, controllerUidIndex);
}

/** The cached objects whose controller reference carries the owner's uid (needs `indexByControllerUid`). */
export function controlledBy(informer: Informer, owner: KObject): KObject[] {
  const uid = owner.metadata?.uid;
  return uid ? informer.byIndex(controllerUidIndexName, uid) : [];
}

/** What a controller may claim: the objects it controls and the orphans in its namespace (needs `indexByControllerUid`). */
export function claimCandidates(informer: Informer, owner: KObject): KObject[] {
  const orphans = informer.byNamespace(owner.metadata?.namespace ?? '').filter((o) => !controllerRefOf(o));
  return [...controlledBy(informer, owner), ...orphans];
}
