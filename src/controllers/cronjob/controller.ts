/**
 * @module kube-controller-manager's cronjob-controller (v2): at each scheduled time creates
 * a Job `<cronjob>-<minutes since epoch>` from the job template, within
 * startingDeadlineSeconds, under concurrencyPolicy Allow/Forbid/Replace; tracks
 * status.active/lastScheduleTime/lastSuccessfulTime, trims finished Jobs to the history
 * limits, and requeues itself for the next scheduled time.
 */
import { isValidTimeZone, parseCronSchedule, type CronSchedule } from '../../api/kinds/cron-schedule.js';
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import {
  controllerOf,
  controllerRefOf,
  DelayedRequeue,
  errorMessage,
  isAlreadyExists,
  isNotFound,
  newControllerRef,
  parseTime,
  rfc3339,
  runController,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';

export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** Requeues land this long after the scheduled time, so a slightly fast clock still sees it as due. */
const nextScheduleDeltaMs = 100;
const manyMissedThreshold = 100;

type Missed = 'none' | 'few' | 'many';

/** A schedule whose next() never returns undefined within the horizon we need (no activation: far future). */
function nextOf(schedule: CronSchedule, after: number): number {
  return schedule.next(new Date(after))?.getTime() ?? Number.POSITIVE_INFINITY;
}

/**
 * mostRecentScheduleTime: the earliest time considered (last schedule, creation, or the
 * starting deadline), the latest activation in (earliest, now] if any, and how many were
 * missed (approximately, as kube counts them).
 */
export function mostRecentScheduleTime(
  cj: KObject,
  nowMs: number,
  schedule: CronSchedule,
  includeStartingDeadline: boolean,
): { earliest: number; mostRecent?: number; missed: Missed; error?: string } {
  let earliest = parseTime(cj.status?.lastScheduleTime) ?? parseTime(cj.metadata?.creationTimestamp) ?? nowMs;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && typeof sds === 'number') {
    const deadline = nowMs - sds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = nextOf(schedule, earliest);
  const t2 = nextOf(schedule, t1);
  if (nowMs < t1) return { earliest, missed: 'none' };
  if (nowMs < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((nowMs - t1) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  // Jump near the end instead of walking every missed activation.
  const potentialEarliest = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = nextOf(schedule, potentialEarliest); t <= nowMs; t = nextOf(schedule, t)) mostRecent = t;
  const missed: Missed = missedCount > manyMissedThreshold ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, mostRecent, missed };
}

/** nextScheduleTimeDuration: how long until the activation after the most recent one (+100 ms). */
export function nextScheduleTimeDuration(cj: KObject, nowMs: number, schedule: CronSchedule): number {
  const r = mostRecentScheduleTime(cj, nowMs, schedule, false);
  let from: number;
  if (r.error) from = nowMs;
  else if (r.mostRecent === undefined) from = r.missed === 'none' ? r.earliest : nowMs;
  else from = r.mostRecent;
  return nextOf(schedule, from) + nextScheduleDeltaMs - nowMs;
}

/** getTimeHashInMinutes: the Job name suffix. */
export function jobNameFor(cj: KObject, scheduledMs: number): string {
  return `${cj.metadata?.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** Go's time.RFC3339 in a zone: "2025-03-01T12:00:00Z" in UTC, "+01:00" offsets elsewhere. */
export function rfc3339InZone(ms: number, timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return rfc3339(new Date(ms));
  const parts: Record<string, number> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  for (const p of f.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
  const offsetMin = Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
  const local = new Date(wall).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC1123Z in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"), as MissSchedule events print it. */
export function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${weekdays[d.getUTCDay()]}, ${p(d.getUTCDate())} ${monthNames[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** The Complete or Failed condition type of a finished Job. */
function finishedStatus(job: KObject): 'Complete' | 'Failed' | undefined {
  for (const c of (job.status?.conditions ?? []) as KObject[]) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** core/v1 ObjectReference of a Job, as status.active lists it. */
function objectReference(obj: KObject): KObject {
  return {
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
    uid: obj.metadata?.uid,
    apiVersion: obj.apiVersion,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

function inActiveList(cj: KObject, uid: string | undefined): boolean {
  return ((cj.status?.active ?? []) as KObject[]).some((r) => r.uid === uid);
}

function deleteFromActiveList(cj: KObject, uid: string | undefined): void {
  const active = ((cj.status?.active ?? []) as KObject[]).filter((r) => r.uid !== uid);
  cj.status ??= {};
  if (active.length) cj.status.active = active;
  else delete cj.status.active;
}

/** byJobStartTime: started Jobs oldest first, then unstarted; names break ties. */
function compareByStartTime(a: KObject, b: KObject): number {
  const sa = parseTime(a.status?.startTime);
  const sb = parseTime(b.status?.startTime);
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return String(a.metadata?.name).localeCompare(String(b.metadata?.name));
  return (sa ?? 0) - (sb ?? 0);
}

export class CronJobController implements Controller {
  readonly name = 'cronjob-controller';
  readonly queue = new WorkQueue({ name: 'cronjob' });
  readonly requeue = new DelayedRequeue(this.queue);
  private readonly cronJobs: Informer;
  private readonly jobs: Informer;
  private readonly recorder: EventRecorder;
  /** The last resourceVersion this controller wrote per CronJob: older cached copies are stale. */
  private readonly written = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('cronjob-controller');
    this.cronJobs = ctx.informers.for(Resources.cronjobs);
    this.jobs = ctx.informers.for(Resources.jobs);
    this.cronJobs.addEventHandlers({
      add: (cj) => this.queue.add(keyOf(cj)),
      update: (old, cur) => this.onCronJobUpdate(old, cur),
    });
    const onJob = (job: KObject) => {
      const owner = controllerOf(this.cronJobs, 'CronJob', job);
      if (owner) this.queue.add(keyOf(owner));
    };
    this.jobs.addEventHandlers({
      add: onJob,
      update: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        if (controllerRefOf(old)?.uid !== controllerRefOf(cur)?.uid) onJob(old);
        onJob(cur);
      },
      delete: onJob,
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.cronJobs, this.jobs],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
      stopped: () => this.requeue.stop(),
    });
  }

  /** A new schedule requeues at its next time; anything else syncs now. */
  private onCronJobUpdate(old: KObject, cur: KObject): void {
    if (old.spec?.schedule !== cur.spec?.schedule || old.spec?.timeZone !== cur.spec?.timeZone) {
      let schedule: CronSchedule;
      try {
        schedule = this.parseSchedule(cur, false);
      } catch (err) {
        this.recorder.event(cur, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cur.spec?.schedule}`);
        return;
      }
      this.requeue.after(keyOf(cur), nextScheduleTimeDuration(cur, this.ctx.now().getTime(), schedule));
      return;
    }
    this.queue.add(keyOf(cur));
  }

  /** formatSchedule + cron.ParseStandard: spec.timeZone applies unless the schedule names its own TZ. */
  private parseSchedule(cj: KObject, warn: boolean): CronSchedule {
    const spec: string = cj.spec?.schedule ?? '';
    if (spec.includes('TZ')) {
      if (warn)
        this.recorder.event(
          cj,
          'Warning',
          'UnsupportedSchedule',
          `CRON_TZ or TZ used in schedule ${JSON.stringify(spec)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
        );
      return parseCronSchedule(spec);
    }
    const tz = cj.spec?.timeZone;
    return parseCronSchedule(spec, typeof tz === 'string' && isValidTimeZone(tz) ? { timeZone: tz } : {});
  }

  /** The Jobs a CronJob reconciles: those whose controller reference names it. */
  private jobsOf(cj: KObject): KObject[] {
    return this.jobs.byNamespace(cj.metadata?.namespace ?? '').filter((j) => {
      const ref = controllerRefOf(j);
      return ref?.kind === 'CronJob' && ref.name === cj.metadata?.name;
    });
  }

  async sync(key: string): Promise<void> {
    const cached = this.cronJobs.get(key);
    if (!cached) {
      this.written.delete(key);
      return;
    }
    // Our own status write (active list) has not reached the cache: acting now could start twice.
    if (Number(cached.metadata?.resourceVersion ?? 0) < (this.written.get(key) ?? 0)) return;
    const jobs = this.jobsOf(cached);
    let cj: KObject = structuredClone(cached);
    cj.status ??= {};
    const cleaned = await this.cleanupFinishedJobs(cj, jobs);
    let result: { requeueAfter?: number; updateStatus: boolean; cj: KObject };
    let syncError: unknown;
    try {
      result = await this.syncCronJob(cj, jobs);
    } catch (err) {
      syncError = err;
      result = { updateStatus: (err as { updateStatus?: boolean }).updateStatus ?? false, cj };
    }
    cj = result.cj;
    if (cleaned || result.updateStatus) {
      const written = await this.ctx.client.update(Resources.cronjobs, cj.metadata?.namespace, cj, { subresource: 'status' });
      this.written.set(key, Number(written.metadata?.resourceVersion ?? 0));
    }
    if (result.requeueAfter !== undefined) {
      this.requeue.after(key, result.requeueAfter);
      return;
    }
    if (syncError) throw syncError;
  }

  /** syncCronJob: reconcile the active list, then start the Job due now, if any. */
  private async syncCronJob(cjIn: KObject, jobs: KObject[]): Promise<{ requeueAfter?: number; updateStatus: boolean; cj: KObject }> {
    let cj = cjIn;
    const now = this.ctx.now().getTime();
    let updateStatus = false;
    const fail = (err: unknown) => Object.assign(err instanceof Error ? err : new Error(String(err)), { updateStatus });
    const children = new Set<string>();
    for (const j of jobs) {
      const uid = j.metadata?.uid ?? '';
      children.add(uid);
      const found = inActiveList(cj, uid);
      const finished = finishedStatus(j);
      if (!found && !finished) {
        let fresh: KObject;
        try {
          fresh = await this.ctx.client.get(Resources.cronjobs, cj.metadata?.namespace, cj.metadata!.name!);
        } catch (err) {
          throw fail(err);
        }
        if (inActiveList(fresh, uid)) {
          cj = structuredClone(fresh);
          continue;
        }
        // Started by someone else (kubectl create job --from), or we crashed before recording it.
        this.recorder.event(cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata?.name}`);
      } else if (found && finished) {
        deleteFromActiveList(cj, uid);
        this.recorder.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata?.name}, status: ${finished}`);
        updateStatus = true;
      }
    }
    // A successful Job need not be in the active list to be the newest success.
    for (const j of jobs) {
      if (finishedStatus(j) !== 'Complete') continue;
      const completion = parseTime(j.status?.completionTime);
      const last = parseTime(cj.status?.lastSuccessfulTime);
      if (completion !== undefined && (last === undefined || completion > last)) {
        cj.status.lastSuccessfulTime = j.status.completionTime;
        updateStatus = true;
      }
    }
    for (const ref of [...((cj.status?.active ?? []) as KObject[])]) {
      if (children.has(ref.uid)) continue;
      // The cache may lag the API: only a 404 proves the Job is gone.
      try {
        await this.ctx.client.get(Resources.jobs, ref.namespace, ref.name);
      } catch (err) {
        if (!isNotFound(err)) throw fail(err);
        this.recorder.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        deleteFromActiveList(cj, ref.uid);
        updateStatus = true;
      }
    }
    if (cj.metadata?.deletionTimestamp) return { updateStatus, cj };
    const tz = cj.spec?.timeZone;
    if (typeof tz === 'string' && !isValidTimeZone(tz)) {
      this.recorder.event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`);
      return { updateStatus, cj };
    }
    if (cj.spec?.suspend === true) return { updateStatus, cj };
    let schedule: CronSchedule;
    try {
      schedule = this.parseSchedule(cj, true);
    } catch (err) {
      this.recorder.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${errorMessage(err)}`);
      return { updateStatus, cj };
    }
    const next = mostRecentScheduleTime(cj, now, schedule, true);
    if (next.error) {
      this.recorder.event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${next.error}`);
      return { updateStatus, cj };
    }
    const requeue = () => ({ requeueAfter: nextScheduleTimeDuration(cj, now, schedule), updateStatus, cj });
    if (next.mostRecent === undefined || next.mostRecent > now) return requeue();
    if (next.missed === 'many')
      this.recorder.event(cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    const scheduled = next.mostRecent;
    const sds = cj.spec?.startingDeadlineSeconds;
    if (typeof sds === 'number' && scheduled + sds * 1000 < now) {
      this.recorder.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return requeue();
    }
    const jobName = jobNameFor(cj, scheduled);
    const active = (cj.status?.active ?? []) as KObject[];
    if (active.some((r) => r.name === jobName && r.namespace === cj.metadata?.namespace) || parseTime(cj.status?.lastScheduleTime) === scheduled) return requeue();
    if (cj.spec?.concurrencyPolicy === 'Forbid' && active.length > 0) {
      this.recorder.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return requeue();
    }
    if (cj.spec?.concurrencyPolicy === 'Replace') {
      for (const ref of [...active]) {
        let job: KObject;
        try {
          job = await this.ctx.client.get(Resources.jobs, ref.namespace, ref.name);
        } catch (err) {
          this.recorder.event(cj, 'Warning', 'FailedGet', `Get job: ${errorMessage(err)}`);
          throw fail(err);
        }
        if (!(await this.deleteJob(cj, job))) throw fail(new Error(`could not replace job ${ref.namespace}/${ref.name}`));
        updateStatus = true;
      }
    }
    let created: KObject;
    let existed = false;
    try {
      created = await this.ctx.client.create(Resources.jobs, cj.metadata?.namespace, this.jobFromTemplate(cj, scheduled));
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.recorder.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
        throw fail(err);
      }
      // Created earlier by us (status write lost) or by someone else.
      existed = true;
      try {
        created = await this.ctx.client.get(Resources.jobs, cj.metadata?.namespace, jobName);
      } catch (getErr) {
        throw fail(getErr);
      }
      if (controllerRefOf(created)?.uid !== cj.metadata?.uid || inActiveList(cj, created.metadata?.uid)) return requeue();
    }
    if (!existed) this.recorder.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name}`);
    cj.status.active = [...((cj.status.active ?? []) as KObject[]), objectReference({ apiVersion: 'batch/v1', kind: 'Job', ...created })];
    cj.status.lastScheduleTime = rfc3339(new Date(scheduled));
    updateStatus = true;
    return requeue();
  }

  /** getJobFromTemplate2. */
  private jobFromTemplate(cj: KObject, scheduled: number): KObject {
    const template: KObject = cj.spec?.jobTemplate ?? {};
    const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
    annotations[scheduledTimestampAnnotation] = rfc3339InZone(scheduled, cj.spec?.timeZone);
    const metadata: KObject = {
      name: jobNameFor(cj, scheduled),
      annotations,
      ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
    };
    if (template.metadata?.labels && Object.keys(template.metadata.labels).length) metadata.labels = { ...template.metadata.labels };
    return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: structuredClone(template.spec ?? {}) };
  }

  /** Deletes a Job (its pods in the background) and its active-list entry. */
  private async deleteJob(cj: KObject, job: KObject): Promise<boolean> {
    try {
      await this.ctx.client.delete(Resources.jobs, job.metadata?.namespace, job.metadata!.name!, { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.recorder.event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`);
        return false;
      }
    }
    deleteFromActiveList(cj, job.metadata?.uid);
    this.recorder.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata?.name}`);
    return true;
  }

  /** cleanupFinishedJobs: keep the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs. */
  private async cleanupFinishedJobs(cj: KObject, jobs: KObject[]): Promise<boolean> {
    const successLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if (typeof successLimit !== 'number' && typeof failedLimit !== 'number') return false;
    const succeeded = jobs.filter((j) => finishedStatus(j) === 'Complete' && !j.metadata?.deletionTimestamp);
    const failed = jobs.filter((j) => finishedStatus(j) === 'Failed' && !j.metadata?.deletionTimestamp);
    let changed = false;
    for (const [list, limit] of [
      [succeeded, successLimit],
      [failed, failedLimit],
    ] as const) {
      if (typeof limit !== 'number' || list.length <= limit) continue;
      const oldest = [...list].sort(compareByStartTime).slice(0, list.length - limit);
      for (const j of oldest) if (await this.deleteJob(cj, j)) changed = true;
    }
    return changed;
  }
}

