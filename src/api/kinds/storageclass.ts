/**
 * @module storage.k8s.io/v1 StorageClass (cluster-scoped, short name sc): defaults
 * (reclaimPolicy Delete, volumeBindingMode Immediate), ValidateStorageClass/Update
 * (provisioner a qualified name; parameters, provisioner, reclaimPolicy and
 * volumeBindingMode immutable) and the printer with kubectl's "(default)" marker.
 */
import { type FieldError, forbidden, invalid, notSupported, required, tooLong } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isQualifiedName } from '../validation.js';
import { ageColumn, column, deepEqual, nameColumn, validateImmutable } from './kind-util.js';

/** The annotation marking the class used for claims that name none. */
export const defaultStorageClassAnnotation = 'storageclass.kubernetes.io/is-default-class';
/** Its beta form, still honoured by kube's IsDefaultAnnotation. */
export const betaDefaultStorageClassAnnotation = 'storageclass.beta.kubernetes.io/is-default-class';

export const volumeBindingModes = ['Immediate', 'WaitForFirstConsumer'];
/** Recycle is a PersistentVolume policy only; classes may not use it. */
const classReclaimPolicies = ['Delete', 'Retain'];
const maxParameters = 512;
const maxParametersSize = 256 * 1024;

/** storageutil.IsDefaultAnnotation. */
export function isDefaultStorageClass(sc: KObject): boolean {
  const a = sc.metadata?.annotations ?? {};
  return a[defaultStorageClassAnnotation] === 'true' || a[betaDefaultStorageClassAnnotation] === 'true';
}

export function defaultStorageClass(obj: KObject): void {
  if (!obj.reclaimPolicy) obj.reclaimPolicy = 'Delete';
  if (!obj.volumeBindingMode) obj.volumeBindingMode = 'Immediate';
}

function validateParameters(params: unknown): FieldError[] {
  if (params == null || typeof params !== 'object') return [];
  const entries = Object.entries(params as Record<string, unknown>);
  if (entries.length > maxParameters) return [tooLong('parameters', '', maxParameters)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(invalid('parameters', k, 'field can not be empty.'));
    size += k.length + String(v ?? '').length;
  }
  if (size > maxParametersSize) errs.push(tooLong('parameters', '', maxParametersSize));
  return errs;
}

/** ValidateStorageClass (object metadata is validated by the generic pipeline). */
export function validateStorageClass(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = String(obj.provisioner ?? '');
  if (!provisioner) errs.push(required('provisioner', ''));
  else for (const m of isQualifiedName(provisioner.toLowerCase())) errs.push(invalid('provisioner', provisioner, m));
  errs.push(...validateParameters(obj.parameters));
  if (obj.reclaimPolicy && !classReclaimPolicies.includes(obj.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', obj.reclaimPolicy, classReclaimPolicies));
  if (!obj.volumeBindingMode) errs.push(required('volumeBindingMode', ''));
  else if (!volumeBindingModes.includes(obj.volumeBindingMode)) errs.push(notSupported('volumeBindingMode', obj.volumeBindingMode, volumeBindingModes));
  return errs;
}

/** ValidateStorageClassUpdate. */
export function validateStorageClassUpdate(obj: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if ((obj.provisioner ?? '') !== (old.provisioner ?? '')) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if ((obj.reclaimPolicy ?? '') !== (old.reclaimPolicy ?? '')) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

export const storageClassResource: ResourceDef = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  singular: 'storageclass',
  namespaced: false,
  shortNames: ['sc'],
  tracksGeneration: false,
  defaults: defaultStorageClass,
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
  table: {
    columns: [
      nameColumn,
      column('Provisioner', 'string', 'provisioner indicates the type of the provisioner.'),
      column(
        'ReclaimPolicy',
        'string',
        'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.',
      ),
      column(
        'VolumeBindingMode',
        'string',
        'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.',
      ),
      column('AllowVolumeExpansion', 'string', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
      ageColumn,
    ],
    cells(obj: KObject, now: Date) {
      const name = String(obj.metadata?.name ?? '');
      return [
        isDefaultStorageClass(obj) ? `${name} (default)` : name,
        obj.provisioner ?? '',
        obj.reclaimPolicy || 'Delete',
        obj.volumeBindingMode || 'Immediate',
        obj.allowVolumeExpansion === true,
        age(obj.metadata?.creationTimestamp, now),
      ];
    },
  },
};
