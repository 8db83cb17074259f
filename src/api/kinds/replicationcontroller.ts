/**
 * @module core/v1 ReplicationController: selector and labels default to the template
 * labels, replicas to 1; ValidateReplicationControllerSpec; the status.replicas field
 * selector and the NAME DESIRED CURRENT READY AGE printer.
 */
import { type FieldError, required } from '../errors.js';
import { age, formatMap } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { ageColumn, column, containerCells, containersColumn, imagesColumn, nameColumn, validateNonNegative, withDecodeErrors } from './kind-util.js';
import { defaultPodTemplate, validateControllerTemplate } from './podspec.js';

function mapMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** ValidateReplicationControllerSpec. */
export function validateReplicationControllerSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const selector: Record<string, string> = s.selector ?? {};
  const errs: FieldError[] = [...validateNonNegative(s.minReadySeconds, `${path}.minReadySeconds`)];
  if (Object.keys(selector).length === 0) errs.push(required(`${path}.selector`, ''));
  errs.push(...validateNonNegative(s.replicas, `${path}.replicas`));
  if (!s.template) {
    errs.push(required(`${path}.template`, ''));
    return errs;
  }
  errs.push(
    ...validateControllerTemplate(s.template, `${path}.template`, {
      kind: 'ReplicationController',
      selectorEmpty: Object.keys(selector).length === 0,
      selectorMatches: mapMatches(selector, s.template?.metadata?.labels),
    }),
  );
  return errs;
}

export const replicationControllerDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  singular: 'replicationcontroller',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  // Scale.status.selector of an RC is its map selector as a string; the generic scale
  // handler reads LabelSelector objects, so no labelSelectorPath here.
  subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' } },
  defaults(obj) {
    withDecodeErrors('ReplicationController', 'v1', () => {
      const spec = (obj.spec ??= {});
      const labels = spec.template?.metadata?.labels;
      if (labels) {
        if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
        if (!obj.metadata?.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata = { ...(obj.metadata ?? {}), labels: { ...labels } };
      }
      spec.replicas ??= 1;
      if (spec.template) defaultPodTemplate(spec.template);
    });
  },
  prepareForCreate(obj) {
    obj.status = { replicas: 0 };
    obj.metadata!.generation = 1;
  },
  validate(obj) {
    return validateReplicationControllerSpec(obj.spec);
  },
  fieldSelectors: {
    'status.replicas': (o) => String(o.status?.replicas ?? 0),
  },
  table: {
    columns: [
      nameColumn,
      column(
        'Desired',
        'integer',
        'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
      ),
      column(
        'Current',
        'integer',
        'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
      ),
      column('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      column(
        'Selector',
        'string',
        'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
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
        formatMap(obj.spec?.selector),
      ];
    },
  },
};
