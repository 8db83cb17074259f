/**
 * @module batch/v1 Job: defaults (completions/parallelism 1, backoffLimit 6, NonIndexed,
 * suspend false, podReplacementPolicy), the generated selector and
 * controller-uid/job-name labels on create, ValidateJob (restartPolicy OnFailure or
 * Never, selector vs. template), the update rules, the status.successful field selector
 * and the NAME STATUS COMPLETIONS DURATION AGE printer.
 */
import { type FieldError, forbidden, invalid, notSupported, required } from '../errors.js';
import { age, humanDuration } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  column,
  containerCells,
  containersColumn,
  deepEqual,
  formatLabelSelector,
  goLabelSelector,
  goStringMap,
  imagesColumn,
  invalidRepr,
  nameColumn,
  selectorMatches,
  validateImmutable,
  validateLabelSelector,
  validateNonNegative,
  withDecodeErrors,
} from './kind-util.js';
import { defaultPodTemplate, validatePodTemplate } from './podspec.js';

export const legacyJobNameLabel = 'job-name';
export const jobNameLabel = 'batch.kubernetes.io/job-name';
export const legacyControllerUidLabel = 'controller-uid';
export const controllerUidLabel = 'batch.kubernetes.io/controller-uid';

const completionModes = ['NonIndexed', 'Indexed'];
const maxParallelismForIndexedJob = 100000;

/** Jobs being created in this request: the batch.kubernetes.io labels are required only then. */
const creating = new WeakSet<object>();

/** SetDefaults_Job plus the template defaults. */
export function defaultJob(obj: KObject): void {
  const spec = (obj.spec ??= {});
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  if (spec.backoffLimit === undefined) spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  const rules: KObject[] = Array.isArray(spec.podFailurePolicy?.rules) ? spec.podFailurePolicy.rules : [];
  for (const r of rules) for (const c of (r.onPodConditions ?? []) as KObject[]) c.status ||= 'True';
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.template ??= {};
  defaultPodTemplate(spec.template);
  copyTemplateLabels(obj);
}

/** A Job without labels takes its template's labels. */
function copyTemplateLabels(obj: KObject): void {
  const labels = obj.spec?.template?.metadata?.labels;
  if (labels && Object.keys(labels).length && Object.keys(obj.metadata?.labels ?? {}).length === 0) {
    obj.metadata ??= {};
    obj.metadata.labels = { ...labels };
  }
}

/** generateSelector: job-name and controller-uid labels on the template, a selector on the uid. */
export function generateJobSelector(obj: KObject): void {
  const name = obj.metadata?.name ?? '';
  const uid = obj.metadata?.uid ?? '';
  const spec = (obj.spec ??= {});
  spec.template ??= {};
  spec.template.metadata ??= {};
  const labels: Record<string, string> = (spec.template.metadata.labels ??= {});
  // User-set values are left for validation to reject.
  for (const k of [legacyJobNameLabel, jobNameLabel]) if (!(k in labels)) labels[k] = name;
  for (const k of [legacyControllerUidLabel, controllerUidLabel]) if (!(k in labels)) labels[k] = uid;
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  if (!(controllerUidLabel in spec.selector.matchLabels)) spec.selector.matchLabels[controllerUidLabel] = uid;
}

/** ValidateHasLabel. */
function validateHasLabel(labels: Record<string, string> | undefined, path: string, key: string, expected: string): FieldError[] {
  const p = `${path}.labels[${key}]`;
  if (!labels || !(key in labels)) return [required(p, `must be '${expected}'`)];
  if (labels[key] !== expected) return [invalidRepr(p, labels, goStringMap(labels), `must be '${expected}'`)];
  return [];
}

function validateGeneratedSelector(obj: KObject, batchLabels: boolean): FieldError[] {
  if (obj.spec?.manualSelector === true || !obj.spec?.selector) return [];
  const errs: FieldError[] = [];
  const labels = obj.spec?.template?.metadata?.labels;
  const uid = obj.metadata?.uid ?? '';
  const name = obj.metadata?.name ?? '';
  if (!uid) errs.push(required('metadata.uid', ''));
  const path = 'spec.template.metadata';
  errs.push(...validateHasLabel(labels, path, legacyControllerUidLabel, uid));
  errs.push(...validateHasLabel(labels, path, legacyJobNameLabel, name));
  const expected: Record<string, string> = { [legacyControllerUidLabel]: uid, [legacyJobNameLabel]: name };
  if (batchLabels) {
    errs.push(...validateHasLabel(labels, path, controllerUidLabel, uid));
    errs.push(...validateHasLabel(labels, path, jobNameLabel, name));
    expected[controllerUidLabel] = uid;
    expected[jobNameLabel] = name;
  }
  const sel = obj.spec.selector;
  if (!selectorMatches(sel, expected)) errs.push(invalidRepr('spec.selector', sel, goLabelSelector(sel), '`selector` not auto-generated'));
  return errs;
}

/** validateJobSpec: the rules Jobs and CronJob job templates share. `path` is e.g. "spec". */
export function validateJobSpecCommon(spec: KObject | undefined, path: string): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes'])
    errs.push(...validateNonNegative(s[f], `${path}.${f}`));
  const indexed = s.completionMode === 'Indexed';
  if (s.backoffLimitPerIndex !== undefined && !indexed) errs.push(forbidden(`${path}.backoffLimitPerIndex`, 'requires indexed completion mode'));
  if (s.completionMode !== undefined) {
    if (!completionModes.includes(s.completionMode)) errs.push(notSupported(`${path}.completionMode`, s.completionMode, completionModes));
    if (indexed) {
      if (s.completions === undefined || s.completions === null) errs.push(required(`${path}.completions`, 'when completion mode is Indexed'));
      if (typeof s.parallelism === 'number' && s.parallelism > maxParallelismForIndexedJob)
        errs.push(invalid(`${path}.parallelism`, s.parallelism, `must be less than or equal to ${maxParallelismForIndexedJob} when completion mode is Indexed`));
    }
  }
  if (s.podReplacementPolicy !== undefined) {
    const allowed = s.podFailurePolicy ? ['Failed'] : ['Failed', 'TerminatingOrFailed'];
    if (!allowed.includes(s.podReplacementPolicy)) errs.push(notSupported(`${path}.podReplacementPolicy`, s.podReplacementPolicy, allowed));
  }
  errs.push(...validatePodTemplate(s.template, `${path}.template`));
  const rp = s.template?.spec?.restartPolicy ?? '';
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (rp === 'Always' || rp === '') errs.push(required(rpPath, 'valid values: "OnFailure", "Never"'));
  else if (rp !== 'OnFailure' && rp !== 'Never') errs.push(notSupported(rpPath, rp, ['OnFailure', 'Never']));
  else if (s.podFailurePolicy && rp !== 'Never') errs.push(invalid(rpPath, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

/** ValidateJobSpec: the shared rules plus a selector that matches the template. */
export function validateJobSpec(spec: KObject | undefined, path = 'spec'): FieldError[] {
  const s = spec ?? {};
  const errs = validateJobSpecCommon(s, path);
  if (!s.selector) errs.push(required(`${path}.selector`, ''));
  else errs.push(...validateLabelSelector(s.selector, `${path}.selector`));
  const labels = s.template?.metadata?.labels;
  if (!labels || !selectorMatches(s.selector, labels))
    errs.push(invalidRepr(`${path}.template.metadata.labels`, labels ?? null, goStringMap(labels), '`selector` does not match template `labels`'));
  return errs;
}

function validateJob(obj: KObject, batchLabels: boolean): FieldError[] {
  const errs = [...validateGeneratedSelector(obj, batchLabels), ...validateJobSpec(obj.spec)];
  const s = obj.spec ?? {};
  if (s.completionMode === 'Indexed' && typeof s.completions === 'number' && s.completions > 0) {
    const name = obj.metadata?.name ?? '';
    const host = `${name}-${s.completions - 1}`;
    if (host.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(host))
      errs.push(invalid('metadata.name', name, `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

function hasCondition(job: KObject, type: string): boolean {
  const c = ((job.status?.conditions ?? []) as KObject[]).find((x) => x.type === type);
  return c?.status === 'True';
}

/** The STATUS cell of a Job. */
export function jobStatusCell(job: KObject): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

export const jobDef: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  subresources: { status: true },
  defaults(obj) {
    withDecodeErrors('Job', 'v1', () => defaultJob(obj));
  },
  prepareForCreate(obj) {
    if (obj.spec?.manualSelector !== true) generateJobSelector(obj);
    // The labels generated above reach the Job itself the way kube's read-time defaulting does.
    copyTemplateLabels(obj);
    obj.status = {};
    obj.metadata!.generation = 1;
    creating.add(obj);
  },
  validate(obj) {
    const isCreate = creating.has(obj);
    creating.delete(obj);
    // The prefixed labels are required on create, and on update of Jobs that carry them.
    const batchLabels = isCreate || controllerUidLabel in (obj.spec?.template?.metadata?.labels ?? {});
    return validateJob(obj, batchLabels);
  },
  validateUpdate(obj: KObject, old: KObject) {
    const errs: FieldError[] = [];
    const s = obj.spec ?? {};
    const o = old.spec ?? {};
    const indexed = s.completionMode === 'Indexed';
    if (!indexed) errs.push(...validateImmutable(s.completions, o.completions, 'spec.completions'));
    else if (!deepEqual(s.completions, o.completions) && s.completions !== undefined && s.completions !== s.parallelism)
      errs.push(invalid('spec.completions', s.completions, 'can only be modified in tandem with spec.parallelism'));
    errs.push(...validateImmutable(s.selector, o.selector, 'spec.selector', goLabelSelector(s.selector)));
    // A suspended Job that never started may change its scheduling directives.
    const mutableScheduling = o.suspend === true && !old.status?.startTime;
    const oldTemplate: KObject = structuredClone(o.template ?? {});
    const template: KObject = s.template ?? {};
    if (mutableScheduling) {
      oldTemplate.metadata ??= {};
      oldTemplate.spec ??= {};
      for (const f of ['labels', 'annotations']) oldTemplate.metadata[f] = template.metadata?.[f];
      for (const f of ['nodeSelector', 'tolerations', 'schedulingGates']) oldTemplate.spec[f] = template.spec?.[f];
      if (template.spec?.affinity || oldTemplate.spec.affinity) {
        const aff = { ...(oldTemplate.spec.affinity ?? {}), nodeAffinity: template.spec?.affinity?.nodeAffinity };
        if (aff.nodeAffinity === undefined) delete aff.nodeAffinity;
        oldTemplate.spec.affinity = Object.keys(aff).length ? aff : undefined;
      }
    }
    errs.push(...validateImmutable(template, oldTemplate, 'spec.template', 'core.PodTemplateSpec{...}'));
    for (const f of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy'])
      errs.push(...validateImmutable(s[f], o[f], `spec.${f}`));
    return errs;
  },
  fieldSelectors: {
    'status.successful': (o) => String(o.status?.succeeded ?? 0),
  },
  table: {
    columns: [
      nameColumn,
      column('Status', 'string', 'Status of the job.'),
      column(
        'Completions',
        'string',
        'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
      ),
      column('Duration', 'string', 'Time required to complete the job.'),
      ageColumn,
      containersColumn,
      imagesColumn,
      column(
        'Selector',
        'string',
        'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
        1,
      ),
    ],
    cells(obj, now) {
      const spec = obj.spec ?? {};
      const succeeded = obj.status?.succeeded ?? 0;
      let completions: string;
      if (typeof spec.completions === 'number') completions = `${succeeded}/${spec.completions}`;
      else if ((spec.parallelism ?? 0) > 1) completions = `${succeeded}/1 of ${spec.parallelism}`;
      else completions = `${succeeded}/1`;
      const start = Date.parse(obj.status?.startTime ?? '');
      const end = Date.parse(obj.status?.completionTime ?? '');
      let duration = '';
      if (!Number.isNaN(start)) duration = humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
      const [names, images] = containerCells(spec.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        jobStatusCell(obj),
        completions,
        duration,
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.selector),
      ];
    },
  },
};
