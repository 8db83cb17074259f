/**
 * @module k3s's local-path provisioner (rancher.io/local-path): the default StorageClass
 * `local-path` (WaitForFirstConsumer, reclaimPolicy Delete) is created at start; each
 * claim of that class the PersistentVolume binder hands over (storage-provisioner
 * annotation, plus the selected node) gets a directory `<storage>/pvc-<uid>_<ns>_<name>`
 * (mode 0777, as its helper pod's `mkdir -m 0777`) and a hostPath PersistentVolume
 * pre-bound to the claim with node affinity to the selected node; a Released volume
 * with reclaimPolicy Delete loses its directory, then its object.
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import { errorMessage, isAlreadyExists, isNotFound, runController } from '../common/index.js';
import {
  annBetaStorageProvisioner,
  annDynamicallyProvisioned,
  annSelectedNode,
  annStorageProvisioner,
  classOf,
  claimRefOf,
} from '../persistentvolume/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { defaultStorageClassAnnotation } from '../../api/kinds/storageclass.js';

export const provisionerName = 'rancher.io/local-path';
export const storageClassName = 'local-path';
/** The node label the volume's node affinity names (local-path's KeyNode). */
const hostnameLabel = 'kubernetes.io/hostname';
/** The event source local-path-provisioner's controller library uses: "<provisioner>_<identity>". */
const eventComponent = `${provisionerName}_local-path-provisioner`;
const supportedAccessModes = ['ReadWriteOnce', 'ReadWriteOncePod'];

/** k3s's manifests/local-storage.yaml StorageClass. */
export function localPathStorageClass(): KObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: storageClassName, annotations: { [defaultStorageClassAnnotation]: 'true' } },
    provisioner: provisionerName,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** The directory of a claim's volume: `<storage>/pvc-<uid>_<namespace>_<name>`. */
export function volumePath(storageDir: string, claim: KObject): string {
  return join(storageDir, `${volumeNameFor(claim)}_${claim.metadata?.namespace}_${claim.metadata?.name}`);
}

/** The volume's name: `pvc-<claim uid>`, as external provisioners name them. */
export function volumeNameFor(claim: KObject): string {
  return `pvc-${claim.metadata?.uid}`;
}

/** The provisioner the claim was handed to, GA annotation first. */
function requestedProvisioner(claim: KObject): string | undefined {
  const a = claim.metadata?.annotations ?? {};
  return a[annStorageProvisioner] ?? a[annBetaStorageProvisioner];
}

function within(path: string, dir: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Provisioning that cannot succeed for this claim as it is (an event, no retry until it changes). */
class ProvisioningError extends Error {}

export class LocalPathProvisioner implements Controller {
  readonly name = 'local-path-provisioner';
  readonly claimQueue = new WorkQueue({ name: 'local-path-claims' });
  readonly volumeQueue = new WorkQueue({ name: 'local-path-volumes' });
  readonly claims: Informer;
  readonly volumes: Informer;
  private readonly classes: Informer;
  private readonly nodes: Informer;
  private readonly recorder: EventRecorder;

  constructor(private readonly ctx: ControllerContext) {
    this.claims = ctx.informers.for(Resources.persistentvolumeclaims);
    this.volumes = ctx.informers.for(Resources.persistentvolumes);
    this.classes = ctx.informers.for(Resources.storageclasses);
    this.nodes = ctx.informers.for(Resources.nodes);
    this.recorder = ctx.recorder(eventComponent);
    const onClaim = (c: KObject) => this.claimQueue.add(keyOf(c));
    this.claims.addEventHandlers({ add: onClaim, update: (_o, n) => onClaim(n) });
    const onVolume = (v: KObject) => this.volumeQueue.add(keyOf(v));
    this.volumes.addEventHandlers({ add: onVolume, update: (_o, n) => onVolume(n) });
  }

  private get storageDir(): string | undefined {
    const dir = this.ctx.options.localPathStorageDir;
    return typeof dir === 'string' && dir ? dir : undefined;
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.claims, this.volumes, this.classes, this.nodes],
      pools: [
        { queue: this.claimQueue, workers, sync: (k) => this.syncClaim(k) },
        { queue: this.volumeQueue, workers, sync: (k) => this.syncVolume(k) },
      ],
      started: () => this.ensureStorageClass(),
    });
  }

  /** Creates the `local-path` class unless it exists (k3s deploys it from its manifests at start). */
  async ensureStorageClass(): Promise<void> {
    if (this.classes.get(storageClassName)) return;
    try {
      await this.ctx.client.create(Resources.storageclasses, undefined, localPathStorageClass());
      this.ctx.log({ level: 'info', msg: 'created the default StorageClass', storageClass: storageClassName, provisioner: provisionerName });
    } catch (err) {
      if (!isAlreadyExists(err)) this.ctx.log({ level: 'warn', msg: 'could not create the default StorageClass', storageClass: storageClassName, error: errorMessage(err) });
    }
  }

  /** shouldProvision → provision: one hostPath volume per claim handed to this provisioner. */
  async syncClaim(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (!claim || claim.metadata?.deletionTimestamp || claim.spec?.volumeName) return;
    const sc = this.classes.get(classOf(claim));
    if (!sc || sc.provisioner !== provisionerName || requestedProvisioner(claim) !== provisionerName) return;
    const nodeName: string | undefined = claim.metadata?.annotations?.[annSelectedNode];
    // The volume waits for the node the binder (or scheduler) picks.
    if (sc.volumeBindingMode === 'WaitForFirstConsumer' && !nodeName) return;
    const pvName = volumeNameFor(claim);
    if (this.volumes.get(pvName)) return;
    try {
      await this.provision(claim, sc, pvName, nodeName);
    } catch (err) {
      if (!(err instanceof ProvisioningError)) throw err;
      this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata?.name}": ${err.message}`);
    }
  }

  private async provision(claim: KObject, sc: KObject, pvName: string, nodeName: string | undefined): Promise<void> {
    const storageDir = this.storageDir;
    if (!storageDir) throw new ProvisioningError('no storage directory is configured for the local-path provisioner');
    if (!nodeName) throw new ProvisioningError('configuration error, no node was specified');
    const modes: string[] = claim.spec?.accessModes ?? [];
    if (!modes.every((m) => supportedAccessModes.includes(m))) throw new ProvisioningError('NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes');
    if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') throw new ProvisioningError('only Filesystem volumes are supported');
    const claimKey = keyOf(claim);
    this.recorder.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claimKey}"`);
    const path = volumePath(storageDir, claim);
    try {
      await mkdir(path, { recursive: true, mode: 0o777 });
      // Pods of any user write to it, as with the helper pod's `mkdir -m 0777`.
      await chmod(path, 0o777);
    } catch (err) {
      throw new ProvisioningError(`failed to create volume directory ${path}: ${errorMessage(err)}`);
    }
    const node = this.nodes.get(nodeName);
    const hostname: string = node?.metadata?.labels?.[hostnameLabel] ?? nodeName;
    const pv: KObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: { [annDynamicallyProvisioned]: provisionerName, 'local.path.provisioner/selected-node': nodeName },
      },
      spec: {
        accessModes: modes,
        capacity: { storage: claim.spec?.resources?.requests?.storage },
        hostPath: { path, type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: hostnameLabel, operator: 'In', values: [hostname] }] }] } },
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name,
        volumeMode: 'Filesystem',
        claimRef: claimRefOf(claim),
      },
    };
    try {
      await this.ctx.client.create(Resources.persistentvolumes, undefined, pv);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      throw err;
    }
    this.ctx.log({ level: 'info', msg: 'provisioned volume', claim: claimKey, volume: pvName, path, node: nodeName });
    this.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
  }

  /** shouldDelete → delete: a Released volume of ours with reclaimPolicy Delete goes with its directory. */
  async syncVolume(key: string): Promise<void> {
    const pv = this.volumes.get(key);
    if (!pv || pv.metadata?.deletionTimestamp) return;
    if (pv.metadata?.annotations?.[annDynamicallyProvisioned] !== provisionerName) return;
    if (pv.status?.phase !== 'Released' || pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const path: string | undefined = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    const storageDir = this.storageDir;
    if (path && storageDir && within(path, storageDir)) {
      try {
        await rm(path, { recursive: true, force: true });
      } catch (err) {
        this.recorder.event(pv, 'Warning', 'VolumeFailedDelete', `failed to delete volume ${pv.metadata?.name}: ${errorMessage(err)}`);
        throw err;
      }
    } else if (path) {
      // Another server's storage (or a path edited by hand): only the object goes.
      this.ctx.log({ level: 'warn', msg: 'volume directory outside the storage directory left in place', volume: pv.metadata?.name, path, storageDir });
    }
    try {
      await this.ctx.client.delete(Resources.persistentvolumes, undefined, pv.metadata!.name!, { preconditions: { uid: pv.metadata?.uid } });
      this.ctx.log({ level: 'info', msg: 'deleted volume', volume: pv.metadata?.name, path });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
