/**
 * @module apps/v1 StatefulSet: defaults (OrderedReady, RollingUpdate partition 0, PVC
 * retention Retain, replicas 1, claim templates), ValidateStatefulSetSpec, the rule that
 * only replicas/ordinals/template/updateStrategy/retention/minReadySeconds may change,
 * the scale subresource and the NAME READY AGE printer.
 */
import { type FieldError, forbidden, invalid, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  deepEqual,
  imagesColumn,
  nameColumn,
  selectorFacts,
  validateEnum,
  validateNonNegative,
  validateWorkloadSelector,
  withDecodeErrors,
  objectList,
} from './kind-util.js';
import { defaultPersistentVolumeClaim, validatePersistentVolumeClaimSpec } from './persistentvolumeclaim.js';
import { defaultPodTemplate, validateControllerTemplate } from './podspec.js';


/** SetDefaults_StatefulSet plus template and claim template defaults. */
export function defaultStatefulSet(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.podManagementPolicy ||= 'OrderedReady';
  spec.updateStrategy ??= {};
  if (!spec.updateStrategy.type) {
    spec.updateStrategy.type = 'RollingUpdate';
    spec.updateStrategy.rollingUpdate ??= {};
  }
  if (spec.updateStrategy.type === 'RollingUpdate' && spec.updateStrategy.rollingUpdate)
    spec.updateStrategy.rollingUpdate.partition ??= 0;
  spec.persistentVolumeClaimRetentionPolicy ??= {};
  spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
  spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  spec.template ??= {};
  defaultPodTemplate(spec.template);
  for (const pvc of objectList(spec.volumeClaimTemplates)) {
    pvc.apiVersion ??= 'v1';
    pvc.kind ??= 'PersistentVolumeClaim';
    const meta: KObject = (pvc.metadata ??= {});
    if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
    defaultPersistentVolumeClaim(pvc);
  }
}

/** ValidateStatefulSetSpec. */
export function validateStatefulSetSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  const pmp = s.podManagementPolicy;
  if (!pmp) errs.push(required(`${path}.podManagementPolicy`, ''));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(invalid(`${path}.podManagementPolicy`, pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = s.updateStrategy ?? {};
  switch (us.type ?? '') {
    case '':
      errs.push(required(`${path}.updateStrategy`, ''));
      break;
    case 'OnDelete':
      if (us.rollingUpdate) errs.push(invalid(`${path}.updateStrategy.rollingUpdate`, us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (us.rollingUpdate) errs.push(...validateNonNegative(us.rollingUpdate.partition, `${path}.updateStrategy.rollingUpdate.partition`));
      break;
    default:
      errs.push(invalid(`${path}.updateStrategy`, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const ret = s.persistentVolumeClaimRetentionPolicy;
  if (ret) {
    errs.push(...validateEnum(ret.whenDeleted, ['Retain', 'Delete'], `${path}.persistentVolumeClaimRetentionPolicy.whenDeleted`));
    errs.push(...validateEnum(ret.whenScaled, ['Retain', 'Delete'], `${path}.persistentVolumeClaimRetentionPolicy.whenScaled`));
  }
  if (s.ordinals) errs.push(...validateNonNegative(s.ordinals.start, `${path}.ordinals.start`));
  errs.push(...validateNonNegative(s.replicas, `${path}.replicas`));
  errs.push(...validateNonNegative(s.minReadySeconds, `${path}.minReadySeconds`));
  errs.push(...validateWorkloadSelector(s.selector, `${path}.selector`, 'statefulset'));
  const claimTemplateNames = objectList(s.volumeClaimTemplates).map((pvc) => String(pvc.metadata?.name ?? ''));
  errs.push(...validateControllerTemplate(s.template, `${path}.template`, { kind: 'StatefulSet', claimTemplateNames, ...selectorFacts(s.selector, s.template?.metadata?.labels) }));
  objectList(s.volumeClaimTemplates).forEach((pvc, i) => errs.push(...validatePersistentVolumeClaimSpec(pvc.spec, `${path}.volumeClaimTemplates[${i}].spec`)));
  return errs;
}

/** The spec fields a StatefulSet update may change. */
const mutableSpecFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

export const statefulSetDef: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  singular: 'statefulset',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' } },
  defaults(obj) {
    withDecodeErrors('StatefulSet', 'v1', () => defaultStatefulSet(obj));
  },
  prepareForCreate(obj) {
    // replicas and availableReplicas have no omitempty.
    obj.status = { replicas: 0, availableReplicas: 0 };
    obj.metadata!.generation = 1;
  },
  validate(obj) {
    return validateStatefulSetSpec(obj.spec);
  },
  validateUpdate(obj: KObject, old: KObject) {
    const next: KObject = { ...(obj.spec ?? {}) };
    const prev: KObject = old.spec ?? {};
    for (const f of mutableSpecFields) {
      if (prev[f] === undefined) delete next[f];
      else next[f] = prev[f];
    }
    if (deepEqual(next, prev)) return [];
    return [
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    ];
  },
  table: {
    columns: [
      nameColumn,
      column('Ready', 'string', 'Number of the pod with ready state'),
      ageColumn,
      containersColumn,
      imagesColumn,
    ],
    cells(obj, now) {
      const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
      ];
    },
  },
};
