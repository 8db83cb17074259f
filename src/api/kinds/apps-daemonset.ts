/**
 * @module apps/v1 DaemonSet: defaults (RollingUpdate maxUnavailable 1 / maxSurge 0,
 * revisionHistoryLimit 10), the `deprecated.daemonset.template.generation` annotation
 * bumped on template changes, ValidateDaemonSetSpec, the immutable selector and the
 * NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE printer.
 */
import { type FieldError, notSupported, required } from '../errors.js';
import { age, formatMap } from '../print.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  deepEqual,
  formatLabelSelector,
  goIntOrString,
  goLabelSelector,
  imagesColumn,
  intOrPercentValue,
  invalidRepr,
  nameColumn,
  selectorFacts,
  selectorIsEmpty,
  validateIntOrPercent,
  validateLabelSelector,
  validateNonNegative,
  validateSelectorImmutable,
  withDecodeErrors,
} from './kind-util.js';
import { defaultPodTemplate, validateControllerTemplate } from './podspec.js';

/** The v1 form of the internal spec.templateGeneration. */
export const templateGenerationAnnotation = 'deprecated.daemonset.template.generation';

function templateGeneration(obj: KObject): number {
  const v = Number.parseInt(obj.metadata?.annotations?.[templateGenerationAnnotation] ?? '', 10);
  return Number.isNaN(v) ? 0 : v;
}

function setTemplateGeneration(obj: KObject, gen: number): void {
  obj.metadata ??= {};
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [templateGenerationAnnotation]: String(gen) };
}

/** SetDefaults_DaemonSet plus the template defaults. */
export function defaultDaemonSet(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ||= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.template ??= {};
  defaultPodTemplate(spec.template);
}

function validateUpdateStrategy(strategy: KObject | undefined, path: string): FieldError[] {
  const s = strategy ?? {};
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(`${path}.rollingUpdate`, '')];
      const p = `${path}.rollingUpdate`;
      const errs = [...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`, true), ...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`, true)];
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable, 100, false) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge, 100, false) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidRepr(`${p}.maxSurge`, ru.maxSurge, goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [
        {
          ...notSupported(path, s, ['RollingUpdate', 'OnDelete']),
          valueRepr: `apps.DaemonSetUpdateStrategy{Type:${JSON.stringify(s.type ?? '')}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}`,
        },
      ];
  }
}

/** ValidateDaemonSetSpec (a DaemonSet has no "selector required" rule: a nil selector just matches nothing). */
export function validateDaemonSetSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const facts = selectorFacts(s.selector, s.template?.metadata?.labels);
  const template = s.template ?? {};
  errs.push(
    ...validateControllerTemplate(template, `${path}.template`, {
      kind: 'DaemonSet',
      selectorEmpty: false,
      selectorMatches: facts.selectorMatches,
      activeDeadlineInvalid: true,
    }),
  );
  if (s.selector && selectorIsEmpty(s.selector))
    errs.push(invalidRepr(`${path}.selector`, s.selector, goLabelSelector(s.selector), 'empty selector is invalid for daemonset'));
  errs.push(...validateNonNegative(s.minReadySeconds, `${path}.minReadySeconds`));
  errs.push(...validateUpdateStrategy(s.updateStrategy, `${path}.updateStrategy`));
  errs.push(...validateNonNegative(s.revisionHistoryLimit, `${path}.revisionHistoryLimit`));
  return errs;
}

export const daemonSetDef: ResourceDef = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  singular: 'daemonset',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  subresources: { status: true },
  defaults(obj) {
    withDecodeErrors('DaemonSet', 'v1', () => defaultDaemonSet(obj));
  },
  prepareForCreate(obj) {
    // These four counters have no omitempty.
    obj.status = { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    obj.metadata!.generation = 1;
    if (templateGeneration(obj) < 1) setTemplateGeneration(obj, 1);
  },
  prepareForUpdate(obj, old, ctx: StrategyContext) {
    if (ctx.subresource !== '') return;
    // Clients cannot set the template generation; it moves with the template.
    const gen = templateGeneration(old);
    const changed = !deepEqual(obj.spec?.template, old.spec?.template);
    setTemplateGeneration(obj, changed ? gen + 1 : gen);
  },
  validate(obj) {
    return validateDaemonSetSpec(obj.spec);
  },
  validateUpdate: validateSelectorImmutable,
  table: {
    columns: [
      nameColumn,
      column(
        'Desired',
        'integer',
        'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
      ),
      column(
        'Current',
        'integer',
        'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
      ),
      column(
        'Ready',
        'integer',
        'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
      ),
      column('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
      column(
        'Available',
        'integer',
        'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
      ),
      column(
        'Node Selector',
        'string',
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
      ),
      ageColumn,
      containersColumn,
      imagesColumn,
      column(
        'Selector',
        'string',
        "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
        1,
      ),
    ],
    cells(obj, now) {
      const st = obj.status ?? {};
      const [names, images] = containerCells(obj.spec?.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        st.desiredNumberScheduled ?? 0,
        st.currentNumberScheduled ?? 0,
        st.numberReady ?? 0,
        st.updatedNumberScheduled ?? 0,
        st.numberAvailable ?? 0,
        formatMap(obj.spec?.template?.spec?.nodeSelector),
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(obj.spec?.selector),
      ];
    },
  },
};
