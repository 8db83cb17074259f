/**
 * @module Controller references and kube's ControllerRefManager: which objects a controller
 * owns, adopting matching orphans and releasing owned objects that stopped matching, with
 * the strategic merge patches kube-controller-manager sends. Shared by the ReplicaSet
 * (pods) and Deployment (ReplicaSets) controllers.
 */
import { ApiError } from '../../api/errors.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import type { Client, Gvr } from '../../client/index.js';

/** metav1.GetControllerOf: the owner reference with controller: true. */
export function controllerRefOf(obj: KObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** metav1.NewControllerRef. */
export function newControllerRef(owner: KObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata!.name!, uid: owner.metadata!.uid!, controller: true, blockOwnerDeletion: true };
}

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/**
 * apiequality.Semantic.DeepEqual over JSON: nil and empty maps/slices are equal, and an
 * absent field equals its empty value.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => semanticEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) if (!semanticEqual(ao[k], bo[k])) return false;
  return true;
}

export interface ClaimOptions {
  client: Client;
  /** The owned resource (pods, replicasets). */
  resource: Gvr;
  /** The claiming controller object and how to refer to it. */
  controller: KObject;
  controllerApiVersion: string;
  controllerKind: string;
  /** Whether an object belongs to the controller by its labels (and any extra filter). */
  match: (obj: KObject) => boolean;
  /**
   * kube's RecheckDeletionTimestamp: called once before the first adoption with a fresh
   * read of the controller; rejects when it is gone or being deleted.
   */
  canAdopt: () => Promise<void>;
}

/**
 * ControllerRefManager.ClaimObject over a list: returns the objects the controller owns
 * afterwards. Objects owned by others are ignored; owned objects that stopped matching
 * are released (unless the controller is being deleted); matching orphans are adopted.
 * Errors other than NotFound are collected and the first is thrown after the pass.
 */
export async function claimObjects(opts: ClaimOptions, objs: KObject[]): Promise<KObject[]> {
  const claimed: KObject[] = [];
  const errors: unknown[] = [];
  const uid = opts.controller.metadata?.uid;
  const controllerDeleting = !!opts.controller.metadata?.deletionTimestamp;
  let adoptCheck: Promise<void> | undefined;
  for (const obj of objs) {
    const ref = controllerRefOf(obj);
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        if (opts.match(obj)) {
          claimed.push(obj);
          continue;
        }
        if (controllerDeleting) continue;
        await release(opts, obj);
        continue;
      }
      if (controllerDeleting || !opts.match(obj)) continue;
      if (obj.metadata?.deletionTimestamp) continue;
      if (opts.controller.metadata?.namespace && opts.controller.metadata.namespace !== obj.metadata?.namespace) continue;
      adoptCheck ??= opts.canAdopt();
      await adoptCheck;
      claimed.push(await adopt(opts, obj));
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) continue;
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

/** The adoption patch: add our controller reference; the object's uid guards against a re-created namesake. */
async function adopt(opts: ClaimOptions, obj: KObject): Promise<KObject> {
  const ref = newControllerRef(opts.controller, opts.controllerApiVersion, opts.controllerKind);
  return opts.client.patch(opts.resource, obj.metadata!.namespace, obj.metadata!.name!, 'strategic', {
    metadata: { ownerReferences: [ref], uid: obj.metadata!.uid },
  });
}

/** The release patch: delete our owner reference by uid. */
async function release(opts: ClaimOptions, obj: KObject): Promise<void> {
  await opts.client.patch(opts.resource, obj.metadata!.namespace, obj.metadata!.name!, 'strategic', {
    metadata: { ownerReferences: [{ $patch: 'delete', uid: opts.controller.metadata!.uid }], uid: obj.metadata!.uid },
  });
}

/** The canAdopt check kube runs before adopting: the controller must still exist, with the same uid, and not be deleting. */
export function recheckDeletion(client: Client, resource: Gvr, controller: KObject): () => Promise<void> {
  return async () => {
    const meta = controller.metadata!;
    let fresh: KObject;
    try {
      fresh = await client.get(resource, meta.namespace, meta.name!);
    } catch (err) {
      // Not the owned object's NotFound (which claimObjects ignores): adoption must stop.
      throw new Error(`original ${controller.kind} ${meta.namespace}/${meta.name} could not be read: ${String(err)}`);
    }
    if (fresh.metadata?.uid !== meta.uid)
      throw new Error(`original ${controller.kind} ${meta.namespace}/${meta.name} is gone: got uid ${fresh.metadata?.uid}, wanted ${meta.uid}`);
    if (fresh.metadata?.deletionTimestamp)
      throw new Error(`${meta.namespace}/${meta.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
}
