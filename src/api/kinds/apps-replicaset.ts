/**
 * @module apps/v1 ReplicaSet: replicas default 1, ValidateReplicaSetSpec (selector must
 * match the template labels), the immutable selector, the scale subresource, the
 * status.replicas field selector and the NAME DESIRED CURRENT READY AGE printer.
 */
import type { FieldError } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  formatLabelSelector,
  imagesColumn,
  nameColumn,
  selectorFacts,
  validateNonNegative,
  validateSelectorImmutable,
  validateWorkloadSelector,
  withDecodeErrors,
} from './kind-util.js';
import { defaultPodTemplate, validateControllerTemplate } from './podspec.js';

/** ValidateReplicaSetSpec. */
export function validateReplicaSetSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  return [
    ...validateNonNegative(s.replicas, `${path}.replicas`),
    ...validateNonNegative(s.minReadySeconds, `${path}.minReadySeconds`),
    // kube-apiserver words the ReplicaSet case exactly like the Deployment one.
    ...validateWorkloadSelector(s.selector, `${path}.selector`, 'deployment'),
    ...validateControllerTemplate(s.template, `${path}.template`, { kind: 'ReplicaSet', ...selectorFacts(s.selector, s.template?.metadata?.labels) }),
  ];
}

export const replicaSetDef: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  singular: 'replicaset',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' } },
  defaults(obj) {
    withDecodeErrors('ReplicaSet', 'v1', () => {
      const spec = (obj.spec ??= {});
      spec.replicas ??= 1;
      spec.template ??= {};
      defaultPodTemplate(spec.template);
    });
  },
  prepareForCreate(obj) {
    // ReplicaSetStatus.replicas has no omitempty: an empty status still says 0.
    obj.status = { replicas: 0 };
    obj.metadata!.generation = 1;
  },
  validate(obj) {
    return validateReplicaSetSpec(obj.spec);
  },
  validateUpdate: validateSelectorImmutable,
  fieldSelectors: {
    'status.replicas': (o) => String(o.status?.replicas ?? 0),
  },
  table: {
    columns: [
      nameColumn,
      column(
        'Desired',
        'integer',
        'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
      ),
      column(
        'Current',
        'integer',
        'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
      ),
      column('Ready', 'integer', 'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      column(
        'Selector',
        'string',
        "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        1,
      ),
    ],
    cells(obj, now) {
      const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        obj.spec?.replicas ?? 0,
        obj.status?.replicas ?? 0,
        obj.status?.readyReplicas ?? 0,
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
};
