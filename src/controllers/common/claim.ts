/**
 * @module kube's ControllerRefManager (pkg/controller/controller_ref_manager.go): which
 * objects a controller owns — adopting matching orphans and releasing owned objects that
 * stopped matching, with the strategic merge patches kube-controller-manager sends.
 */
import type { KObject } from '../../api/types.js';
import type { Client, Gvr } from '../../client/index.js';
import { isInvalid, isNotFound } from './api-errors.js';
import { controllerRefOf, newControllerRef } from './controller-ref.js';

export interface ClaimOptions {
  client: Client;
  /** The owned resource (pods, replicasets). */
  resource: Gvr;
  /** The claiming controller object, the resource it is served as, and how to refer to it. */
  controller: KObject;
  controllerResource: Gvr;
  controllerApiVersion: string;
  controllerKind: string;
  /**
   * Whether an object belongs to the controller: its selector, and any filter (kube's
   * ClaimPods filters; StatefulSet: the name says it is a member). An owned object that
   * stops matching is released.
   */
  match: (obj: KObject) => boolean;
  /** Finalizers added on adoption (Job: the tracking finalizer). */
  adoptFinalizers?: string[];
}

/**
 * ControllerRefManager.ClaimObject over a list: the objects the controller owns afterwards.
 * Objects owned by others are ignored; owned objects that stopped matching are released
 * (unless the controller is being deleted); matching orphans in its namespace are adopted
 * once a fresh read shows the controller still exists and is not being deleted
 * (RecheckDeletionTimestamp). NotFound is ignored; other errors are collected and the
 * first is thrown after the pass. Returned objects are the cache's (never mutate them) or,
 * after adoption, fresh copies from the API.
 */
export async function claimObjects(candidates: KObject[], opts: ClaimOptions): Promise<KObject[]> {
  const claimed: KObject[] = [];
  const errors: unknown[] = [];
  const uid = opts.controller.metadata?.uid;
  const controllerDeleting = !!opts.controller.metadata?.deletionTimestamp;
  let adoptCheck: Promise<void> | undefined;
  for (const obj of candidates) {
    const ref = controllerRefOf(obj);
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        // Claiming what it already owns takes no action, so a deleting controller may.
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
      adoptCheck ??= recheckDeletion(opts.client, opts.controllerResource, opts.controller);
      await adoptCheck;
      claimed.push(await adopt(opts, obj));
    } catch (err) {
      if (isNotFound(err)) continue;
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
  return claimed;
}

/** The adoption patch: our controller reference (and finalizers); the object's uid guards against a re-created namesake. */
async function adopt(opts: ClaimOptions, obj: KObject): Promise<KObject> {
  const meta = obj.metadata!;
  const patchMeta: KObject = { ownerReferences: [newControllerRef(opts.controller, opts.controllerApiVersion, opts.controllerKind)], uid: meta.uid };
  const missing = (opts.adoptFinalizers ?? []).filter((f) => !(meta.finalizers ?? []).includes(f));
  if (missing.length) patchMeta.finalizers = [...(meta.finalizers ?? []), ...missing];
  return opts.client.patch(opts.resource, meta.namespace, meta.name!, 'strategic', { metadata: patchMeta });
}

/**
 * The release patch: delete our owner reference by uid. Invalid means the object has no
 * owner references left or is a re-created namesake: nothing of ours to release.
 */
async function release(opts: ClaimOptions, obj: KObject): Promise<void> {
  try {
    await opts.client.patch(opts.resource, obj.metadata!.namespace, obj.metadata!.name!, 'strategic', {
      metadata: { ownerReferences: [{ $patch: 'delete', uid: opts.controller.metadata!.uid }], uid: obj.metadata!.uid },
    });
  } catch (err) {
    if (!isInvalid(err)) throw err;
  }
}

/**
 * RecheckDeletionTimestamp, the check kube runs before the first adoption: the controller
 * must still exist, with the same uid, and not be deleting. Its errors are plain Errors so
 * that the controller's own NotFound is not mistaken for the orphan's.
 */
export async function recheckDeletion(client: Client, resource: Gvr, controller: KObject): Promise<void> {
  const meta = controller.metadata!;
  let fresh: KObject;
  try {
    fresh = await client.get(resource, meta.namespace, meta.name!);
  } catch (err) {
    throw new Error(`original ${controller.kind} ${meta.namespace}/${meta.name} could not be read: ${String(err)}`);
  }
  if (fresh.metadata?.uid !== meta.uid) throw new Error(`original ${controller.kind} ${meta.namespace}/${meta.name} is gone: got uid ${fresh.metadata?.uid}, wanted ${meta.uid}`);
  if (fresh.metadata?.deletionTimestamp) throw new Error(`${meta.namespace}/${meta.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}
