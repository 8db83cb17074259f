/**
 * @module core/v1 PersistentVolumeClaim: defaults (volumeMode Filesystem, phase Pending),
 * claim spec validation (shared with StatefulSet templates and ephemeral volumes), the
 * spec-immutability rule, and the STATUS/VOLUME/CAPACITY/ACCESS MODES printer.
 */
import { type FieldError, forbidden, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import { canonicalizeResourceList, tryParseQuantity } from '../quantity.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  column,
  deepEqual,
  nameColumn,
  quantityCell,
  specDiff,
  validateDNS1123Subdomain,
  validateLabelSelector,
  withDecodeErrors,
} from './kind-util.js';

export const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const volumeModes = ['Block', 'Filesystem'];

/** The beta annotation still wins over spec.storageClassName, as in kube's helpers. */
export const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

/** GetAccessModesAsString: "RWO,ROX,RWX,RWOP" in that fixed order. */
export function accessModesString(modes: unknown): string {
  const ms = Array.isArray(modes) ? modes : [];
  const out: string[] = [];
  if (ms.includes('ReadWriteOnce')) out.push('RWO');
  if (ms.includes('ReadOnlyMany')) out.push('ROX');
  if (ms.includes('ReadWriteMany')) out.push('RWX');
  if (ms.includes('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** SetDefaults_PersistentVolumeClaimSpec plus ResourceList canonicalization. */
export function defaultPersistentVolumeClaimSpec(spec: KObject | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.volumeMode ??= 'Filesystem';
  // VolumeResourceRequirements is a struct: always serialized, {} when empty.
  spec.resources ??= {};
  canonicalizeResourceList(spec.resources?.requests);
  canonicalizeResourceList(spec.resources?.limits);
}

/** SetDefaults_PersistentVolumeClaim: used for claims and for StatefulSet claim templates. */
export function defaultPersistentVolumeClaim(pvc: KObject): void {
  pvc.spec ??= {};
  defaultPersistentVolumeClaimSpec(pvc.spec);
  pvc.status ??= {};
  pvc.status.phase ||= 'Pending';
  canonicalizeResourceList(pvc.status.capacity);
  canonicalizeResourceList(pvc.status.allocatedResources);
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: KObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const s = spec ?? {};
  const modes: unknown[] = Array.isArray(s.accessModes) ? s.accessModes : [];
  if (modes.length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  if (s.selector) errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  for (const m of modes) if (!accessModes.includes(m as string)) errs.push(notSupported(`${path}.accessModes`, m, accessModes));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    errs.push(forbidden(`${path}.accessModes`, 'may not use ReadWriteOncePod with other access modes'));
  const storagePath = `${path}.resources[storage]`;
  const storage = s.resources?.requests?.storage;
  if (storage === undefined || storage === null) {
    errs.push(required(storagePath, ''));
  } else {
    const q = tryParseQuantity(storage);
    if (!q || q.sign() <= 0) errs.push(invalid(storagePath, String(storage), 'must be greater than zero'));
  }
  if (typeof s.storageClassName === 'string' && s.storageClassName.length > 0)
    errs.push(...validateDNS1123Subdomain(s.storageClassName, `${path}.storageClassName`));
  if (s.volumeMode !== undefined && !volumeModes.includes(s.volumeMode)) errs.push(notSupported(`${path}.volumeMode`, s.volumeMode, volumeModes));
  return errs;
}

function storageClassOf(pvc: KObject): string {
  return pvc.metadata?.annotations?.[betaStorageClassAnnotation] ?? pvc.spec?.storageClassName ?? '';
}

export const persistentVolumeClaimDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  namespaced: true,
  shortNames: ['pvc'],
  subresources: { status: true },
  tracksGeneration: false,
  defaults(obj) {
    withDecodeErrors('PersistentVolumeClaim', 'v1', () => defaultPersistentVolumeClaim(obj));
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate(obj) {
    return validatePersistentVolumeClaimSpec(obj.spec, 'spec');
  },
  validateUpdate(obj, old) {
    const errs: FieldError[] = [];
    const bound = obj.status?.phase === 'Bound';
    const next = structuredClone(obj.spec ?? {});
    const prev = structuredClone(old.spec ?? {});
    // The binder may set volumeName once.
    if (!prev.volumeName) prev.volumeName = next.volumeName;
    // RetroactiveDefaultStorageClass: an unset class (and no beta annotation) may be set once.
    if (prev.storageClassName == null && !old.metadata?.annotations?.[betaStorageClassAnnotation]) prev.storageClassName = next.storageClassName;
    // Bound claims may be resized and change their VolumeAttributesClass.
    if (bound) {
      const newStorage = tryParseQuantity(next.resources?.requests?.storage);
      const oldStorage = tryParseQuantity(prev.resources?.requests?.storage);
      if (newStorage && oldStorage && newStorage.cmp(oldStorage) < 0)
        errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
      prev.resources ??= {};
      prev.resources.requests = next.resources?.requests;
      prev.volumeAttributesClassName = next.volumeAttributesClassName;
    }
    if (!deepEqual(next, prev))
      errs.push(
        forbidden(
          'spec',
          `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff('core.PersistentVolumeClaimSpec', prev, next)}`,
        ),
      );
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      column('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
      column('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      column('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
      column(
        'Access Modes',
        'string',
        'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1',
      ),
      column('StorageClass', 'string', 'StorageClass of the pvc'),
      column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
      ageColumn,
      column(
        'VolumeMode',
        'string',
        'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
        1,
      ),
    ],
    cells(obj, now) {
      const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : (obj.status?.phase ?? '');
      const volumeName: string = obj.spec?.volumeName ?? '';
      const bound = volumeName !== '';
      return [
        obj.metadata?.name ?? '',
        phase,
        volumeName,
        bound ? quantityCell(obj.status?.capacity?.storage) : '',
        bound ? accessModesString(obj.status?.accessModes) : '',
        storageClassOf(obj),
        obj.spec?.volumeAttributesClassName ?? '<unset>',
        age(obj.metadata?.creationTimestamp, now),
        obj.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
};
