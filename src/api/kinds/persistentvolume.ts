/**
 * @module core/v1 PersistentVolume (cluster-scoped): defaults (reclaim policy Retain,
 * volumeMode Filesystem, phase Pending), spec validation, the immutable volume source,
 * lastPhaseTransitionTime on phase changes, and the kubectl printer.
 */
import { type FieldError, forbidden, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import { canonicalizeResourceList, tryParseQuantity } from '../quantity.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import { ageColumn, column, deepEqual, nameColumn, quantityCell, specDiff, validateDNS1123Subdomain, validateImmutable, withDecodeErrors } from './kind-util.js';
import { accessModes, accessModesString, betaStorageClassAnnotation, volumeModes } from './persistentvolumeclaim.js';

/** The volume sources of core/v1 PersistentVolumeSource. */
export const persistentVolumeSourceTypes = [
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'hostPath',
  'glusterfs',
  'nfs',
  'rbd',
  'iscsi',
  'cinder',
  'cephfs',
  'fc',
  'flocker',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];

function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function volumeSource(spec: KObject | undefined): KObject {
  const out: KObject = {};
  for (const t of persistentVolumeSourceTypes) if (spec?.[t] !== undefined) out[t] = spec[t];
  return out;
}

function validatePersistentVolumeSpec(spec: KObject | undefined): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  const modes: unknown[] = Array.isArray(s.accessModes) ? s.accessModes : [];
  if (modes.length === 0) errs.push(required('spec.accessModes', ''));
  for (const m of modes) if (!accessModes.includes(m as string)) errs.push(notSupported('spec.accessModes', m, accessModes));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) errs.push(forbidden('spec.accessModes', 'may not use ReadWriteOncePod with other access modes'));
  const capacity: Record<string, unknown> = s.capacity ?? {};
  if (Object.keys(capacity).length === 0) errs.push(required('spec.capacity', ''));
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) errs.push(notSupported('spec.capacity', capacity, ['storage']));
  for (const [r, v] of Object.entries(capacity)) {
    const q = tryParseQuantity(v);
    if (!q || q.sign() <= 0) errs.push(invalid(`spec.capacity[${r}]`, String(v), 'must be greater than zero'));
  }
  if (s.storageClassName) errs.push(...validateDNS1123Subdomain(s.storageClassName, 'spec.storageClassName'));
  if (s.volumeMode !== undefined && !volumeModes.includes(s.volumeMode)) errs.push(notSupported('spec.volumeMode', s.volumeMode, volumeModes));
  if (s.persistentVolumeReclaimPolicy && !reclaimPolicies.includes(s.persistentVolumeReclaimPolicy))
    errs.push(notSupported('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, reclaimPolicies));
  const present = persistentVolumeSourceTypes.filter((t) => s[t] !== undefined && s[t] !== null);
  if (present.length === 0) errs.push(required('spec', 'must specify a volume type'));
  for (const t of present.slice(1)) errs.push(forbidden(`spec.${t}`, 'may not specify more than 1 volume type'));
  if (s.hostPath) {
    if (!s.hostPath.path) errs.push(required('spec.hostPath.path', ''));
    else if (String(s.hostPath.path).split('/').includes('..')) errs.push(invalid('spec.hostPath.path', s.hostPath.path, "must not contain '..'"));
    const clean = String(s.hostPath.path ?? '').replace(/\/+$/, '') || '/';
    if (clean === '/' && s.persistentVolumeReclaimPolicy === 'Recycle')
      errs.push(forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (s.local && !s.local.path) errs.push(required('spec.local.path', ''));
  if (s.nfs) {
    if (!s.nfs.server) errs.push(required('spec.nfs.server', ''));
    if (!s.nfs.path) errs.push(required('spec.nfs.path', ''));
  }
  if (s.csi) {
    if (!s.csi.driver) errs.push(required('spec.csi.driver', ''));
    if (!s.csi.volumeHandle) errs.push(required('spec.csi.volumeHandle', ''));
  }
  return errs;
}

function storageClassOf(pv: KObject): string {
  return pv.metadata?.annotations?.[betaStorageClassAnnotation] ?? pv.spec?.storageClassName ?? '';
}

export const persistentVolumeDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  singular: 'persistentvolume',
  namespaced: false,
  shortNames: ['pv'],
  subresources: { status: true },
  tracksGeneration: false,
  defaults(obj) {
    withDecodeErrors('PersistentVolume', 'v1', () => {
      const spec = (obj.spec ??= {});
      spec.persistentVolumeReclaimPolicy ||= 'Retain';
      spec.volumeMode ??= 'Filesystem';
      canonicalizeResourceList(spec.capacity);
      if (spec.hostPath && typeof spec.hostPath === 'object') spec.hostPath.type ??= '';
      obj.status ??= {};
      obj.status.phase ||= 'Pending';
    });
  },
  prepareForCreate(obj, ctx: StrategyContext) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339Seconds(ctx.now) };
  },
  prepareForUpdate(obj, old, ctx: StrategyContext) {
    if (ctx.subresource !== 'status') return;
    const changed = obj.status?.phase !== old.status?.phase;
    const stamp = obj.status?.lastPhaseTransitionTime;
    if (changed && (!stamp || stamp === old.status?.lastPhaseTransitionTime)) {
      obj.status ??= {};
      obj.status.lastPhaseTransitionTime = rfc3339Seconds(ctx.now);
    }
  },
  validate(obj) {
    return validatePersistentVolumeSpec(obj.spec);
  },
  validateUpdate(obj: KObject, old: KObject) {
    const errs: FieldError[] = [];
    const src = volumeSource(obj.spec);
    const oldSrc = volumeSource(old.spec);
    if (!deepEqual(src, oldSrc))
      errs.push(
        forbidden(
          'spec.persistentvolumesource',
          `spec.persistentvolumesource is immutable after creation\n${specDiff('core.PersistentVolumeSource', oldSrc, src)}`,
        ),
      );
    errs.push(...validateImmutable(obj.spec?.volumeMode, old.spec?.volumeMode, 'volumeMode'));
    if (old.spec?.nodeAffinity !== undefined) errs.push(...validateImmutable(obj.spec?.nodeAffinity, old.spec.nodeAffinity, 'spec.nodeAffinity', 'core.VolumeNodeAffinity{...}'));
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      column('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
      column('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
      column(
        'Reclaim Policy',
        'string',
        'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming',
      ),
      column('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
      column(
        'Claim',
        'string',
        'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding',
      ),
      column('StorageClass', 'string', 'StorageClass of the pv'),
      column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
      column('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      ageColumn,
      column(
        'VolumeMode',
        'string',
        'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.',
        1,
      ),
    ],
    cells(obj, now) {
      const ref = obj.spec?.claimRef;
      const claim = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : '';
      return [
        obj.metadata?.name ?? '',
        quantityCell(obj.spec?.capacity?.storage),
        accessModesString(obj.spec?.accessModes),
        obj.spec?.persistentVolumeReclaimPolicy ?? '',
        obj.metadata?.deletionTimestamp ? 'Terminating' : (obj.status?.phase ?? ''),
        claim,
        storageClassOf(obj),
        obj.spec?.volumeAttributesClassName ?? '<unset>',
        obj.status?.reason ?? '',
        age(obj.metadata?.creationTimestamp, now),
        obj.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
};
