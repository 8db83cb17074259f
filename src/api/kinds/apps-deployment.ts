/**
 * @module apps/v1 Deployment: defaults (replicas 1, RollingUpdate 25%/25%,
 * revisionHistoryLimit 10, progressDeadlineSeconds 600, template defaults), generation
 * bumped by spec and annotation changes, ValidateDeploymentSpec, the immutable selector,
 * the scale subresource and the NAME READY UP-TO-DATE AVAILABLE AGE printer.
 */
import { type FieldError, forbidden, invalid, notSupported, required } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  deepEqual,
  imagesColumn,
  intOrPercentValue,
  invalidRepr,
  goIntOrString,
  labelSelectorString,
  nameColumn,
  selectorFacts,
  validateIntOrPercent,
  validateNonNegative,
  validateSelectorImmutable,
  validateWorkloadSelector,
  withDecodeErrors,
} from './kind-util.js';
import { defaultPodTemplate, validateControllerTemplate } from './podspec.js';

const strategyTypes = ['Recreate', 'RollingUpdate'];

/** SetDefaults_Deployment plus the template defaults. */
export function defaultDeployment(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ||= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.template ??= {};
  defaultPodTemplate(spec.template);
}

function validateStrategy(strategy: KObject | undefined, path: string): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate ? [forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil')];
      const p = `${path}.rollingUpdate`;
      const errs = [...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`), ...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`)];
      if (intOrPercentValue(ru.maxUnavailable, 100, false) === 0 && intOrPercentValue(ru.maxSurge, 100, false) === 0)
        errs.push(invalidRepr(`${p}.maxUnavailable`, ru.maxUnavailable, goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      if (typeof ru.maxUnavailable === 'string' && /^[0-9]+%$/.test(ru.maxUnavailable) && Number.parseInt(ru.maxUnavailable, 10) > 100)
        errs.push(invalidRepr(`${p}.maxUnavailable`, ru.maxUnavailable, goIntOrString(ru.maxUnavailable), 'must not be greater than 100%'));
      return errs;
    }
    default:
      return [
        {
          ...notSupported(path, s, strategyTypes),
          valueRepr: `apps.DeploymentStrategy{Type:${JSON.stringify(s.type ?? '')}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}`,
        },
      ];
  }
}

/** ValidateDeploymentSpec. */
export function validateDeploymentSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateNonNegative(s.replicas, `${path}.replicas`));
  errs.push(...validateWorkloadSelector(s.selector, `${path}.selector`, 'deployment'));
  errs.push(
    ...validateControllerTemplate(s.template, `${path}.template`, {
      kind: 'ReplicaSet',
      ...selectorFacts(s.selector, s.template?.metadata?.labels),
    }),
  );
  errs.push(...validateStrategy(s.strategy, `${path}.strategy`));
  errs.push(...validateNonNegative(s.minReadySeconds, `${path}.minReadySeconds`));
  errs.push(...validateNonNegative(s.revisionHistoryLimit, `${path}.revisionHistoryLimit`));
  if (typeof s.progressDeadlineSeconds === 'number') {
    errs.push(...validateNonNegative(s.progressDeadlineSeconds, `${path}.progressDeadlineSeconds`));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0))
      errs.push(invalid(`${path}.progressDeadlineSeconds`, s.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export const deploymentDef: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  singular: 'deployment',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' } },
  defaults(obj) {
    withDecodeErrors('Deployment', 'v1', () => defaultDeployment(obj));
  },
  prepareForCreate(obj) {
    obj.status = {};
    obj.metadata!.generation = 1;
  },
  prepareForUpdate(obj, old, ctx: StrategyContext) {
    // Annotations are copied to ReplicaSets, so changing them is a new generation too.
    if (ctx.subresource === '' && !deepEqual(obj.metadata?.annotations ?? {}, old.metadata?.annotations ?? {}))
      obj.metadata!.generation = (old.metadata?.generation ?? 0) + 1;
  },
  validate(obj) {
    return validateDeploymentSpec(obj.spec);
  },
  validateUpdate: validateSelectorImmutable,
  table: {
    columns: [
      nameColumn,
      column('Ready', 'string', 'Number of the pod with ready state'),
      column('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      column('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      column(
        'Selector',
        'string',
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.",
        1,
      ),
    ],
    cells(obj, now) {
      const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        `${obj.status?.readyReplicas ?? 0}/${obj.spec?.replicas ?? 0}`,
        obj.status?.updatedReplicas ?? 0,
        obj.status?.availableReplicas ?? 0,
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
        labelSelectorString(obj.spec?.selector),
      ];
    },
  },
};
