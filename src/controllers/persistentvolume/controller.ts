/**
 * @module kube-controller-manager's PersistentVolume binder (persistentvolume-binder):
 * binds Pending claims to matching Available volumes (class, access modes, volume mode,
 * capacity, selector), finishes bindings users pre-made in either direction, asks the
 * class's external provisioner for a volume when nothing fits, keeps both sides' phases
 * (Available, Bound, Released, Failed, Lost) and reclaims released volumes (Retain keeps
 * them; Delete is left to the volume's provisioner). WaitForFirstConsumer claims wait
 * for a scheduled pod; with no scheduler volume binder in skiff, this controller sets
 * the claim's selected-node annotation from the pod's node, as kube-scheduler would.
 */
import type { KObject } from '../../api/types.js';
import { ApiError } from '../../api/errors.js';
import { betaDefaultStorageClassAnnotation, defaultStorageClassAnnotation } from '../../api/kinds/storageclass.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import { isNotFound, isPodTerminal, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  annBetaStorageProvisioner,
  annBindCompleted,
  annBoundByController,
  annDynamicallyProvisioned,
  annSelectedNode,
  annStorageProvisioner,
  classOf,
  classUnset,
  claimRefOf,
  findBestMatchForClaim,
  hasAnnotation,
  isVolumeBoundToClaim,
  podClaimNames,
  volumeMismatch,
} from './helpers.js';

/** kube's --pvclaimbinder-sync-period. */
export const defaultResyncPeriodMs = 15_000;

const defaultClassAnnotations = [defaultStorageClassAnnotation, betaDefaultStorageClassAnnotation];

function isDefaultClass(sc: KObject): boolean {
  return defaultClassAnnotations.some((a) => sc.metadata?.annotations?.[a] === 'true');
}

export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder-controller';
  readonly claimQueue = new WorkQueue({ name: 'claims' });
  readonly volumeQueue = new WorkQueue({ name: 'volumes' });
  readonly volumes: Informer;
  readonly claims: Informer;
  private readonly classes: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.volumes = ctx.informers.for(Resources.persistentvolumes);
    this.claims = ctx.informers.for(Resources.persistentvolumeclaims);
    this.classes = ctx.informers.for(Resources.storageclasses);
    this.pods = ctx.informers.for(Resources.pods);
    this.nodes = ctx.informers.for(Resources.nodes);
    this.recorder = ctx.recorder('persistentvolume-controller');

    const onVolume = (v: KObject) => {
      this.volumeQueue.add(keyOf(v));
      const ref = v.spec?.claimRef;
      if (ref?.namespace && ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
    };
    // A new or freed volume may fit any waiting claim (kube finds it on the next resync).
    const onVolumeChange = (v: KObject) => {
      onVolume(v);
      this.enqueuePendingClaims();
    };
    this.volumes.addEventHandlers({ add: onVolumeChange, update: (_o, n) => onVolumeChange(n), delete: onVolume });
    const onClaim = (c: KObject) => {
      this.claimQueue.add(keyOf(c));
      if (c.spec?.volumeName) this.volumeQueue.add(c.spec.volumeName);
    };
    this.claims.addEventHandlers({
      add: onClaim,
      update: (_o, n) => onClaim(n),
      // A deleted claim releases its volume.
      delete: (c) => {
        if (c.spec?.volumeName) this.volumeQueue.add(c.spec.volumeName);
        for (const v of this.volumes.list()) if (isVolumeBoundToClaim(v, c)) this.volumeQueue.add(keyOf(v));
      },
    });
    this.classes.addEventHandlers({ add: () => this.enqueuePendingClaims(), update: () => this.enqueuePendingClaims() });
    // A scheduled pod is the first consumer its WaitForFirstConsumer claims wait for.
    const onPod = (p: KObject) => {
      if (!p.spec?.nodeName) return;
      for (const name of podClaimNames(p)) this.claimQueue.add(`${p.metadata?.namespace}/${name}`);
    };
    this.pods.addEventHandlers({ add: onPod, update: (_o, n) => onPod(n) });
  }

  private enqueuePendingClaims(): void {
    for (const c of this.claims.list()) if (!c.spec?.volumeName || c.status?.phase !== 'Bound') this.claimQueue.add(keyOf(c));
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.volumes, this.claims, this.classes, this.pods, this.nodes],
      pools: [
        { queue: this.volumeQueue, workers, sync: (k) => this.syncVolume(k) },
        { queue: this.claimQueue, workers, sync: (k) => this.syncClaim(k) },
      ],
      started: () => {
        // The periodic resync catches what no watch event announces (a claim's pod, a retry after a missed event).
        timer = setInterval(() => {
          for (const v of this.volumes.list()) this.volumeQueue.add(keyOf(v));
          for (const c of this.claims.list()) this.claimQueue.add(keyOf(c));
        }, Number(this.ctx.options.persistentVolumeResyncPeriodMs ?? defaultResyncPeriodMs));
        timer.unref();
      },
      stopped: () => {
        if (timer) clearInterval(timer);
      },
    });
  }

  // ---------------------------------------------------------------------------------
  // Claims

  /** syncClaim: unbound claims are bound or wait; bound ones are checked against their volume. */
  async syncClaim(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim) return;
    if (hasAnnotation(claim, annBindCompleted)) await this.syncBoundClaim(claim);
    else await this.syncUnboundClaim(claim);
  }

  private async syncUnboundClaim(claim: KObject): Promise<void> {
    const volumeName: string = claim.spec?.volumeName ?? '';
    if (volumeName) return this.syncPreboundClaim(claim, volumeName);
    const className = classOf(claim);
    const sc = className ? this.classes.get(className) : undefined;
    const delayBinding = sc?.volumeBindingMode === 'WaitForFirstConsumer';
    const selectedNodeName: string | undefined = claim.metadata?.annotations?.[annSelectedNode];
    const node = delayBinding && selectedNodeName ? this.nodes.get(selectedNodeName) : undefined;
    const volume = findBestMatchForClaim(this.volumes.list(), claim, { delayBinding, node });
    if (volume) return this.bind(volume, claim);

    // No volume: the default class (RetroactiveDefaultStorageClass), then provisioning.
    if (classUnset(claim) && (await this.assignDefaultClass(claim))) return;
    if (delayBinding && !selectedNodeName) {
      if (await this.selectNodeFromConsumer(claim)) return;
      this.emitUnboundDelayBindingEvent(claim);
    } else if (className) {
      await this.provisionClaim(claim, className, sc);
      return;
    } else {
      this.recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
    }
    await this.updateClaimStatus(claim, 'Pending');
  }

  /** The user named a volume: bind to it when it is free or already ours, else wait. */
  private async syncPreboundClaim(claim: KObject, volumeName: string): Promise<void> {
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.updateClaimStatus(claim, 'Pending');
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeMismatch(volume, claim);
      if (why) {
        this.recorder.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${why}`);
        await this.updateClaimStatus(claim, 'Pending');
        return;
      }
      return this.bind(volume, claim);
    }
    if (isVolumeBoundToClaim(volume, claim)) return this.bind(volume, claim);
    if (!hasAnnotation(claim, annBoundByController)) {
      this.recorder.event(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
      await this.updateClaimStatus(claim, 'Pending');
    }
  }

  private async syncBoundClaim(claim: KObject): Promise<void> {
    const volumeName: string = claim.spec?.volumeName ?? '';
    if (!volumeName) {
      await this.updateClaimStatus(claim, 'Lost', { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!' });
      return;
    }
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      await this.updateClaimStatus(claim, 'Lost', { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' });
      return;
    }
    // Unbound volume (or a cache that has not seen the binding yet) or all is well: bind() only writes what differs.
    if (!volume.spec?.claimRef || volume.spec.claimRef.uid === claim.metadata?.uid) return this.bind(volume, claim);
    await this.updateClaimStatus(claim, 'Lost', { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' });
  }

  /** assignDefaultStorageClass: true when the claim was given the default class (its update re-queues it). */
  private async assignDefaultClass(claim: KObject): Promise<boolean> {
    const defaults = this.classes.list().filter(isDefaultClass);
    if (defaults.length === 0) return false;
    // GetDefaultClass: the newest default wins, then the name.
    defaults.sort((a, b) => String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)) || String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
    const next = structuredClone(claim);
    next.spec.storageClassName = defaults[0].metadata?.name;
    try {
      await this.ctx.client.update(Resources.persistentvolumeclaims, claim.metadata?.namespace, next);
      return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      // An API server that keeps storageClassName immutable refuses it: the claim stays classless.
      if (err instanceof ApiError && err.code === 422) {
        this.ctx.log({ level: 'debug', msg: 'default storage class not assigned', claim: keyOf(claim), error: err.message });
        return false;
      }
      throw err;
    }
  }

  /** The pods that use the claim and are not terminal. */
  private consumers(claim: KObject): KObject[] {
    const name = String(claim.metadata?.name);
    return this.pods.byNamespace(claim.metadata?.namespace ?? '').filter((p) => !p.metadata?.deletionTimestamp && !isPodTerminal(p) && podClaimNames(p).includes(name));
  }

  /** The scheduler's volume binder role: a scheduled consumer chooses the node the volume is made for. */
  private async selectNodeFromConsumer(claim: KObject): Promise<boolean> {
    const scheduled = this.consumers(claim).find((p) => p.spec?.nodeName);
    if (!scheduled) return false;
    try {
      await this.ctx.client.patch(Resources.persistentvolumeclaims, claim.metadata?.namespace, String(claim.metadata?.name), 'merge', {
        metadata: { annotations: { [annSelectedNode]: scheduled.spec.nodeName } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return true;
  }

  /** emitEventForUnboundDelayBindingClaim. */
  private emitUnboundDelayBindingEvent(claim: KObject): void {
    const waiting = this.consumers(claim)
      .filter((p) => !p.spec?.nodeName)
      .map((p) => String(p.metadata?.name));
    if (waiting.length === 0) this.recorder.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    else this.recorder.event(claim, 'Normal', 'WaitForPodScheduled', `waiting for ${waiting.length > 1 ? 'pods' : 'pod'} ${waiting.join(',')} to be scheduled`);
  }

  /** provisionClaim for an external provisioner: name it on the claim and wait for its volume. */
  private async provisionClaim(claim: KObject, className: string, sc: KObject | undefined): Promise<void> {
    if (!sc) {
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      await this.updateClaimStatus(claim, 'Pending');
      return;
    }
    const provisioner = String(sc.provisioner ?? '');
    const ann = claim.metadata?.annotations ?? {};
    if (ann[annStorageProvisioner] !== provisioner || ann[annBetaStorageProvisioner] !== provisioner) {
      try {
        claim = await this.ctx.client.patch(Resources.persistentvolumeclaims, claim.metadata?.namespace, String(claim.metadata?.name), 'merge', {
          metadata: { annotations: { [annStorageProvisioner]: provisioner, [annBetaStorageProvisioner]: provisioner } },
        });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
    }
    this.recorder.event(
      claim,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    await this.updateClaimStatus(claim, 'Pending');
  }

  private async updateClaimStatus(claim: KObject, phase: string, event?: { type: 'Normal' | 'Warning'; reason: string; message: string }, volume?: KObject): Promise<KObject> {
    const status = claim.status ?? {};
    const want: KObject = { ...status, phase };
    if (volume) {
      want.accessModes = volume.spec?.accessModes;
      want.capacity = volume.spec?.capacity;
    } else if (phase !== 'Bound') {
      // Only a bound claim reports its volume's modes and capacity.
      delete want.accessModes;
      delete want.capacity;
    }
    if (JSON.stringify(want) === JSON.stringify(status)) return claim;
    try {
      const updated = await this.ctx.client.update(Resources.persistentvolumeclaims, claim.metadata?.namespace, { ...claim, status: want }, { subresource: 'status' });
      if (event && status.phase !== phase) this.recorder.event(updated, event.type, event.reason, event.message);
      return updated;
    } catch (err) {
      if (isNotFound(err)) return claim;
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------
  // Binding

  /** bind: volume → claim reference, volume Bound, claim → volume name, claim Bound; each write only when it changes something. */
  private async bind(volume: KObject, claim: KObject): Promise<void> {
    volume = await this.bindVolumeToClaim(volume, claim);
    volume = await this.updateVolumePhase(volume, 'Bound');
    claim = await this.bindClaimToVolume(claim, volume);
    await this.updateClaimStatus(claim, 'Bound', undefined, volume);
  }

  private async bindVolumeToClaim(volume: KObject, claim: KObject): Promise<KObject> {
    const next = structuredClone(volume);
    next.metadata ??= {};
    let dirty = false;
    const boundByUser = isVolumeBoundToClaim(volume, claim);
    const ref = volume.spec?.claimRef;
    if (!ref || ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace || ref.uid !== claim.metadata?.uid) {
      next.spec.claimRef = claimRefOf(claim);
      dirty = true;
    }
    if (!boundByUser && !hasAnnotation(next, annBoundByController)) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [annBoundByController]: 'yes' };
      dirty = true;
    }
    if (!dirty) return volume;
    return this.ctx.client.update(Resources.persistentvolumes, undefined, next);
  }

  private async bindClaimToVolume(claim: KObject, volume: KObject): Promise<KObject> {
    const next = structuredClone(claim);
    next.metadata ??= {};
    const annotations: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
    let dirty = false;
    if (next.spec?.volumeName !== volume.metadata?.name) {
      next.spec.volumeName = volume.metadata?.name;
      annotations[annBoundByController] ??= 'yes';
      dirty = true;
    }
    if (!(annBindCompleted in annotations)) {
      annotations[annBindCompleted] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    next.metadata.annotations = annotations;
    return this.ctx.client.update(Resources.persistentvolumeclaims, claim.metadata?.namespace, next);
  }

  // ---------------------------------------------------------------------------------
  // Volumes

  /** syncVolume: phase from the claim it references; volumes whose claim is gone are Released and reclaimed. */
  async syncVolume(key: string): Promise<void> {
    const volume = this.volumes.get(key);
    if (!volume || volume.metadata?.deletionTimestamp) return;
    const ref = volume.spec?.claimRef;
    // Unused, or pre-bound by a user to a claim that does not exist yet: available.
    if (!ref || !ref.uid) {
      await this.updateVolumePhase(volume, 'Available');
      return;
    }
    let claim = this.claims.get(`${ref.namespace}/${ref.name}`);
    // The cache may not have seen a claim created a moment ago: ask the API server before releasing.
    if (!claim) claim = await this.ctx.client.get(Resources.persistentvolumeclaims, ref.namespace, ref.name).catch((err) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined;
    if (!claim) {
      const released = ['Released', 'Failed'].includes(volume.status?.phase) ? volume : await this.updateVolumePhase(volume, 'Released');
      await this.reclaimVolume(released);
      return;
    }
    const bound: string = claim.spec?.volumeName ?? '';
    if (!bound) {
      // The binding is half done (or a user pre-bound the volume): the claim's sync finishes it.
      this.claimQueue.add(keyOf(claim));
      return;
    }
    if (bound === volume.metadata?.name) {
      await this.updateVolumePhase(volume, 'Bound');
      return;
    }
    // The claim went to another volume.
    if (hasAnnotation(volume, annDynamicallyProvisioned) && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      const released = ['Released', 'Failed'].includes(volume.status?.phase) ? volume : await this.updateVolumePhase(volume, 'Released');
      await this.reclaimVolume(released);
    } else if (hasAnnotation(volume, annBoundByController)) {
      await this.unbindVolume(volume);
    } else {
      await this.updateVolumePhase(volume, 'Available');
    }
  }

  /** reclaimVolume: Retain keeps the data; Delete waits for the provisioner that made the volume; no recycler exists. */
  private async reclaimVolume(volume: KObject): Promise<void> {
    if (volume.status?.phase !== 'Released') return;
    switch (volume.spec?.persistentVolumeReclaimPolicy) {
      case 'Retain':
        return;
      case 'Recycle':
        await this.updateVolumePhase(volume, 'Failed', { reason: 'VolumeFailedRecycle', message: 'No recycler plugin found for the volume!' });
        return;
      case 'Delete':
        // An external provisioner deletes what it provisioned; skiff has no in-tree deleter.
        if (hasAnnotation(volume, annDynamicallyProvisioned)) return;
        await this.updateVolumePhase(volume, 'Failed', {
          reason: 'VolumeFailedDelete',
          message: `error getting deleter volume plugin for volume "${volume.metadata?.name}": no deletable volume plugin matched`,
        });
        return;
    }
  }

  /** unbindVolume: the binder's own reservation that lost its claim to another volume. */
  private async unbindVolume(volume: KObject): Promise<void> {
    const next = structuredClone(volume);
    next.metadata ??= {};
    delete next.spec.claimRef;
    if (next.metadata.annotations) delete next.metadata.annotations[annBoundByController];
    const updated = await this.ctx.client.update(Resources.persistentvolumes, undefined, next);
    await this.updateVolumePhase(updated, 'Available');
  }

  private async updateVolumePhase(volume: KObject, phase: string, failure?: { reason: string; message: string }): Promise<KObject> {
    const status = volume.status ?? {};
    const want: KObject = { ...status, phase };
    if (failure) want.message = failure.message;
    else delete want.message;
    delete want.reason;
    if (JSON.stringify(want) === JSON.stringify(status)) return volume;
    try {
      const updated = await this.ctx.client.update(Resources.persistentvolumes, undefined, { ...volume, status: want }, { subresource: 'status' });
      if (failure) this.recorder.event(updated, 'Warning', failure.reason, failure.message);
      return updated;
    } catch (err) {
      if (isNotFound(err)) return volume;
      throw err;
    }
  }
}
