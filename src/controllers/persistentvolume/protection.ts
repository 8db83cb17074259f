/**
 * @module kube-controller-manager's storage object in-use protection (pvc-protection and
 * pv-protection): every claim carries the finalizer kubernetes.io/pvc-protection and every
 * volume kubernetes.io/pv-protection (kube's admission plugin adds them on create; the
 * controllers add them to objects that lack them). A claim being deleted keeps its
 * finalizer while a scheduled, not-terminated pod uses it; a volume being deleted keeps
 * its own while it is Bound — so a running database never loses its directory.
 */
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type Gvr, type Informer } from '../../client/index.js';
import { isConflict, isNotFound, isPodTerminal, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { podClaimNames } from './helpers.js';

export const pvcProtectionFinalizer = 'kubernetes.io/pvc-protection';
export const pvProtectionFinalizer = 'kubernetes.io/pv-protection';

const finalizersOf = (obj: KObject): string[] => obj.metadata?.finalizers ?? [];

/** podUsesPVC: only scheduled pods count (the kubelet will not start a pod on a claim being deleted). */
export function podUsesClaim(pod: KObject, claimName: string): boolean {
  if (!pod.spec?.nodeName || isPodTerminal(pod)) return false;
  return podClaimNames(pod).includes(claimName);
}

/** Adds or removes one finalizer with a merge patch of the whole list, guarded by resourceVersion. */
async function setFinalizer(ctx: ControllerContext, resource: Gvr, obj: KObject, finalizer: string, present: boolean): Promise<void> {
  const current = finalizersOf(obj);
  const next = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
  try {
    await ctx.client.patch(resource, obj.metadata?.namespace, String(obj.metadata?.name), 'merge', { metadata: { finalizers: next, resourceVersion: obj.metadata?.resourceVersion } });
  } catch (err) {
    // Gone already, or changed under us: the next event brings the fresh object.
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}

export class PVCProtectionController implements Controller {
  readonly name = 'pvc-protection-controller';
  readonly queue = new WorkQueue({ name: 'pvcprotection' });
  readonly claims: Informer;
  private readonly pods: Informer;

  constructor(private readonly ctx: ControllerContext) {
    this.claims = ctx.informers.for(Resources.persistentvolumeclaims);
    this.pods = ctx.informers.for(Resources.pods);
    const onClaim = (c: KObject) => this.queue.add(keyOf(c));
    this.claims.addEventHandlers({ add: onClaim, update: (_o, n) => onClaim(n) });
    // A pod that finishes or goes away may free the claims it used.
    const onPod = (p: KObject) => {
      for (const name of podClaimNames(p)) this.queue.add(`${p.metadata?.namespace}/${name}`);
    };
    this.pods.addEventHandlers({ add: onPod, update: (_o, n) => onPod(n), delete: onPod });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.claims, this.pods],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
    });
  }

  async sync(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim) return;
    const has = finalizersOf(claim).includes(pvcProtectionFinalizer);
    if (!claim.metadata?.deletionTimestamp) {
      if (!has) await setFinalizer(this.ctx, Resources.persistentvolumeclaims, claim, pvcProtectionFinalizer, true);
      return;
    }
    if (!has || (await this.inUse(claim))) return;
    await setFinalizer(this.ctx, Resources.persistentvolumeclaims, claim, pvcProtectionFinalizer, false);
  }

  /** The cache first; a claim it says is free is checked against a live list, as kube asks the API server. */
  private async inUse(claim: KObject): Promise<boolean> {
    const ns = String(claim.metadata?.namespace ?? '');
    const name = String(claim.metadata?.name);
    if (this.pods.byNamespace(ns).some((p) => podUsesClaim(p, name))) return true;
    const live = await this.ctx.client.list(Resources.pods, ns);
    return ((live.items ?? []) as KObject[]).some((p) => podUsesClaim(p, name));
  }
}

export class PVProtectionController implements Controller {
  readonly name = 'pv-protection-controller';
  readonly queue = new WorkQueue({ name: 'pvprotection' });
  readonly volumes: Informer;

  constructor(private readonly ctx: ControllerContext) {
    this.volumes = ctx.informers.for(Resources.persistentvolumes);
    const onVolume = (v: KObject) => this.queue.add(keyOf(v));
    this.volumes.addEventHandlers({ add: onVolume, update: (_o, n) => onVolume(n) });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.volumes],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
    });
  }

  async sync(key: string): Promise<void> {
    const volume = this.volumes.get(key);
    if (!volume) return;
    const has = finalizersOf(volume).includes(pvProtectionFinalizer);
    if (!volume.metadata?.deletionTimestamp) {
      if (!has) await setFinalizer(this.ctx, Resources.persistentvolumes, volume, pvProtectionFinalizer, true);
      return;
    }
    // A Bound volume is in use by its claim until the binder releases it.
    if (has && volume.status?.phase !== 'Bound') await setFinalizer(this.ctx, Resources.persistentvolumes, volume, pvProtectionFinalizer, false);
  }
}
