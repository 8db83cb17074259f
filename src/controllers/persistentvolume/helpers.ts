/**
 * @module The PersistentVolume binder's rules that need no API (kube's
 * pkg/controller/volume/persistentvolume/util and index.go): the binding annotations,
 * a claim's class, whether a volume is bound to a claim, and findBestMatchForClaim —
 * the smallest Available volume of the claim's class, access modes, volume mode and
 * selector, preferring volumes with the fewest access modes.
 */
import { tryParseQuantity } from '../../api/quantity.js';
import type { KObject } from '../../api/types.js';
import { selectorMatches } from '../../api/kinds/kind-util.js';
import { podFitsNodeAffinity } from '../daemonset/node-eligibility.js';

/** Set on a claim once the binder has finished binding it. */
export const annBindCompleted = 'pv.kubernetes.io/bind-completed';
/** Set on a volume or claim the binder bound (not pre-bound by a user). */
export const annBoundByController = 'pv.kubernetes.io/bound-by-controller';
/** The provisioner that created a volume (AnnDynamicallyProvisioned). */
export const annDynamicallyProvisioned = 'pv.kubernetes.io/provisioned-by';
/** The provisioner asked to create a volume for a claim, GA and beta names. */
export const annStorageProvisioner = 'volume.kubernetes.io/storage-provisioner';
export const annBetaStorageProvisioner = 'volume.beta.kubernetes.io/storage-provisioner';
/** The node a WaitForFirstConsumer claim's volume must be reachable from (kube-scheduler sets it). */
export const annSelectedNode = 'volume.kubernetes.io/selected-node';
/** The beta class annotation still wins over spec.storageClassName. */
export const annBetaStorageClass = 'volume.beta.kubernetes.io/storage-class';

/** GetPersistentVolumeClaimClass / GetPersistentVolumeClass: "" when none. */
export function classOf(obj: KObject): string {
  return obj.metadata?.annotations?.[annBetaStorageClass] ?? obj.spec?.storageClassName ?? '';
}

/** A claim whose storageClassName was never set (nil, not ""): the default class may be assigned to it. */
export function classUnset(claim: KObject): boolean {
  return claim.spec?.storageClassName == null && claim.metadata?.annotations?.[annBetaStorageClass] == null;
}

export function hasAnnotation(obj: KObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj.metadata?.annotations ?? {}, key);
}

/** IsVolumeBoundToClaim: the claimRef names the claim, and its UID when it has one. */
export function isVolumeBoundToClaim(volume: KObject, claim: KObject): boolean {
  const ref = volume.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== claim.metadata?.name || ref.namespace !== claim.metadata?.namespace) return false;
  return !ref.uid || ref.uid === claim.metadata?.uid;
}

/** The reference a bound volume keeps to its claim (reference.GetReference). */
export function claimRefOf(claim: KObject): KObject {
  return {
    kind: 'PersistentVolumeClaim',
    namespace: claim.metadata?.namespace,
    name: claim.metadata?.name,
    uid: claim.metadata?.uid,
    apiVersion: 'v1',
    resourceVersion: claim.metadata?.resourceVersion,
  };
}

const volumeModeOf = (obj: KObject): string => obj.spec?.volumeMode ?? 'Filesystem';

/** CheckNodeAffinity: a volume without node affinity is reachable from every node. */
export function volumeReachableFrom(volume: KObject, node: KObject): boolean {
  const required = volume.spec?.nodeAffinity?.required;
  if (!required) return true;
  return podFitsNodeAffinity({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: required } } }, node);
}

/** Why a volume cannot satisfy a claim (checkVolumeSatisfyClaim), or undefined when it can. */
export function volumeMismatch(volume: KObject, claim: KObject): string | undefined {
  const requested = tryParseQuantity(claim.spec?.resources?.requests?.storage);
  const capacity = tryParseQuantity(volume.spec?.capacity?.storage);
  if (requested && (!capacity || capacity.cmp(requested) < 0)) return 'requested PV is too small';
  if (classOf(volume) !== classOf(claim)) return 'storageClassName does not match';
  if (volumeModeOf(volume) !== volumeModeOf(claim)) return 'incompatible volumeMode';
  const modes: string[] = volume.spec?.accessModes ?? [];
  if (!((claim.spec?.accessModes ?? []) as string[]).every((m) => modes.includes(m))) return 'incompatible accessMode';
  return undefined;
}

/**
 * findBestMatchForClaim: a volume pre-bound to the claim wins; otherwise the smallest
 * Available, unclaimed volume that fits. With delayed binding (WaitForFirstConsumer)
 * unclaimed volumes are only considered once a node is chosen, and must be reachable from it.
 */
export function findBestMatchForClaim(volumes: KObject[], claim: KObject, opts: { delayBinding: boolean; node?: KObject }): KObject | undefined {
  const requested = tryParseQuantity(claim.spec?.resources?.requests?.storage);
  const wantModes: string[] = claim.spec?.accessModes ?? [];
  const selector = claim.spec?.selector;
  const hasSelector = selector && (Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0);
  let best: { volume: KObject; modes: number; size: ReturnType<typeof tryParseQuantity> } | undefined;
  for (const volume of volumes) {
    if (volumeModeOf(volume) !== volumeModeOf(claim)) continue;
    if (volume.metadata?.deletionTimestamp) continue;
    const reachable = !opts.node || volumeReachableFrom(volume, opts.node);
    if (isVolumeBoundToClaim(volume, claim)) {
      if (!reachable) return undefined;
      return volume;
    }
    if (!opts.node && opts.delayBinding) continue;
    if (volume.status?.phase !== 'Available' || volume.spec?.claimRef) continue;
    if (hasSelector && !selectorMatches(selector, volume.metadata?.labels)) continue;
    if (classOf(volume) !== classOf(claim)) continue;
    if (!reachable) continue;
    const modes: string[] = volume.spec?.accessModes ?? [];
    if (!wantModes.every((m) => modes.includes(m))) continue;
    const size = tryParseQuantity(volume.spec?.capacity?.storage);
    if (!size || (requested && size.cmp(requested) < 0)) continue;
    if (!best || modes.length < best.modes || (modes.length === best.modes && size.cmp(best.size!) < 0)) best = { volume, modes: modes.length, size };
  }
  return best?.volume;
}

/** Claim names of the pod's persistentVolumeClaim volumes. */
export function podClaimNames(pod: KObject): string[] {
  return ((pod.spec?.volumes ?? []) as KObject[]).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => typeof n === 'string' && n.length > 0);
}
