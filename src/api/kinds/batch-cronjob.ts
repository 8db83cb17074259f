/**
 * @module batch/v1 CronJob: defaults (concurrencyPolicy Allow, suspend false, history
 * limits 3/1), schedule and time zone validation with robfig/cron's messages, the job
 * template rules (no selector), the 52-character name limit, and the
 * NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE printer.
 */
import { type FieldError, invalid, notSupported } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import {
  ageColumn,
  boolCell,
  column,
  containerCells,
  containersColumn,
  formatLabelSelector,
  goLabelSelector,
  imagesColumn,
  invalidRepr,
  nameColumn,
  validateEnum,
  validateNonNegative,
  withDecodeErrors,
} from './kind-util.js';
import { cronScheduleError, isValidTimeZone } from './cron-schedule.js';
import { defaultPodTemplate } from './podspec.js';
import { validateJobSpecCommon } from './batch-job.js';

const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];

/** The controller appends an 11-character "-<timestamp>" to Job names, which are DNS labels. */
export const maxCronJobNameLength = 52;

const creating = new WeakSet<object>();

/** SetDefaults_CronJob plus the job template's pod template defaults. */
export function defaultCronJob(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.concurrencyPolicy ||= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  spec.jobTemplate ??= {};
  const meta: KObject = (spec.jobTemplate.metadata ??= {});
  if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
  spec.jobTemplate.spec ??= {};
  spec.jobTemplate.spec.template ??= {};
  defaultPodTemplate(spec.jobTemplate.spec.template);
}

/** validateScheduleFormat. */
export function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const err = cronScheduleError(schedule);
  if (err) errs.push(invalid(path, schedule, err));
  if (schedule.includes('TZ')) {
    if (allowTZ && timeZone !== undefined && timeZone !== null)
      errs.push(invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ) errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  return errs;
}

/** validateTimeZone. */
export function validateTimeZone(tz: unknown, path: string): FieldError[] {
  if (tz === undefined || tz === null) return [];
  const s = String(tz);
  if (s.length === 0) return [invalid(path, s, 'timeZone must be nil or non-empty string')];
  for (const part of s.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z._+\-0-9]+$/.test(part)) return [invalid(path, s, `unknown time zone ${s}`)];
  const errs: FieldError[] = [];
  if (s.toLowerCase() === 'local') errs.push(invalid(path, s, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isValidTimeZone(s)) errs.push(invalid(path, s, `unknown time zone ${s}`));
  return errs;
}

function validateCronJobSpec(spec: KObject | undefined, oldSpec: KObject | undefined): FieldError[] {
  const s = spec ?? {};
  const errs: FieldError[] = [];
  if (!s.schedule) errs.push({ type: 'FieldValueRequired', field: 'spec.schedule', detail: '' });
  else errs.push(...validateSchedule(String(s.schedule), String(oldSpec?.schedule ?? '').includes('TZ'), s.timeZone, 'spec.schedule'));
  errs.push(...validateNonNegative(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== s.timeZone) errs.push(...validateTimeZone(s.timeZone, 'spec.timeZone'));
  errs.push(...validateEnum(s.concurrencyPolicy, concurrencyPolicies, 'spec.concurrencyPolicy'));
  const jt = s.jobTemplate ?? {};
  errs.push(...validateJobSpecCommon(jt.spec, 'spec.jobTemplate.spec'));
  if (jt.spec?.selector) errs.push(invalidRepr('spec.jobTemplate.spec.selector', jt.spec.selector, goLabelSelector(jt.spec.selector), '`selector` will be auto-generated'));
  if (jt.spec?.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...validateNonNegative(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonNegative(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export const cronJobDef: ResourceDef = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  subresources: { status: true },
  defaults(obj) {
    withDecodeErrors('CronJob', 'v1', () => defaultCronJob(obj));
  },
  prepareForCreate(obj) {
    obj.status = {};
    obj.metadata!.generation = 1;
    creating.add(obj);
  },
  validate(obj) {
    if (!creating.has(obj)) return [];
    creating.delete(obj);
    const errs = validateCronJobSpec(obj.spec, undefined);
    const name = obj.metadata?.name ?? '';
    if (name.length > maxCronJobNameLength) errs.push(invalid('metadata.name', name, `must be no more than ${maxCronJobNameLength} characters`));
    return errs;
  },
  validateUpdate(obj: KObject, old: KObject) {
    return validateCronJobSpec(obj.spec, old.spec);
  },
  table: {
    columns: [
      nameColumn,
      column('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      column(
        'Timezone',
        'string',
        'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones',
      ),
      column('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
      column('Active', 'integer', 'A list of pointers to currently running jobs.'),
      column('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
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
      const last = obj.status?.lastScheduleTime;
      const [names, images] = containerCells(spec.jobTemplate?.spec?.template?.spec?.containers);
      return [
        obj.metadata?.name ?? '',
        spec.schedule ?? '',
        spec.timeZone ?? '<none>',
        boolCell(spec.suspend),
        Array.isArray(obj.status?.active) ? obj.status.active.length : 0,
        last ? age(last, now) : '<none>',
        age(obj.metadata?.creationTimestamp, now),
        names,
        images,
        formatLabelSelector(spec.jobTemplate?.spec?.selector),
      ];
    },
  },
};
