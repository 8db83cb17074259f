/**
 * @module kube-controller-manager's job-controller: runs a Job's pods to completions with
 * parallelism (NonIndexed and Indexed), counts finished pods exactly once through the
 * batch.kubernetes.io/job-tracking finalizer and status.uncountedTerminatedPods, recreates
 * failed pods after an exponential backoff, and ends the Job with SuccessCriteriaMet/Complete
 * or FailureTarget/Failed (BackoffLimitExceeded, DeadlineExceeded); honours suspend.
 */
import { fromLabelSelector } from '../../api/selectors/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import {
  claimCandidates,
  claimObjects,
  compareActivePods,
  controlledBy,
  ControllerExpectations,
  controllerRefOf,
  DelayedRequeue,
  errorMessage,
  indexByControllerUid,
  isNotFound,
  isPodActive,
  isPodReady,
  isPodTerminating,
  newControllerRef,
  ownersSelecting,
  parseTime,
  podFromTemplate,
  resolveControllerRef,
  rfc3339,
  runController,
  semanticEqual,
  slowStartBatch,
  slowStartInitialBatchSize,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  addCompletionIndexEnv,
  completionIndexAnnotation,
  completionIndexOf,
  duplicateIndexPodsForRemoval,
  firstPendingIndexes,
  formatIndexes,
  parseIndexes,
} from './indexed.js';

export const jobTrackingFinalizer = 'batch.kubernetes.io/job-tracking';
export const jobControllerName = 'kubernetes.io/job-controller';

/** Pod failure backoff: 10 s doubling per consecutive failure, capped at 6 min. */
export const defaultPodFailureBackoffMs = 10_000;
export const maxPodFailureBackoffMs = 6 * 60_000;
/** At most this many pods are created, deleted or counted per sync. */
const maxPodChangesPerSync = 500;
const maxUncountedPods = 500;

interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** Per-sync working state (kube's syncJobCtx). */
interface SyncState {
  key: string;
  job: KObject;
  pods: KObject[];
  activePods: KObject[];
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRmFinalizers: Set<string>;
  succeeded: number;
  prevSucceededIndexes: Set<number>;
  succeededIndexes: Set<number>;
  finishedCondition?: Condition;
  newBackoff: BackoffRecord;
  terminating: number;
  ready: number;
}

export function hasTrackingFinalizer(pod: KObject): boolean {
  return (pod.metadata?.finalizers ?? []).includes(jobTrackingFinalizer);
}

export function jobCondition(job: KObject, type: string): KObject | undefined {
  return ((job.status?.conditions ?? []) as KObject[]).find((c) => c.type === type);
}

/** util.IsJobFinished: a Complete or Failed condition is True. */
export function isJobFinished(job: KObject): boolean {
  return ['Complete', 'Failed'].some((t) => jobCondition(job, t)?.status === 'True');
}

/** The time a finished Job finished (its terminal condition's transition), if it has. */
export function jobFinishTime(job: KObject): number | undefined {
  for (const t of ['Complete', 'Failed']) {
    const c = jobCondition(job, t);
    if (c?.status === 'True') return parseTime(c.lastTransitionTime);
  }
  return undefined;
}

function isIndexed(job: KObject): boolean {
  return job.spec?.completionMode === 'Indexed';
}

function isSuspended(job: KObject): boolean {
  return job.spec?.suspend === true;
}

/** podReplacementPolicy Failed (or a podFailurePolicy): replacements wait for terminating pods to finish. */
function onlyReplaceFailedPods(job: KObject): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || !!job.spec?.podFailurePolicy;
}

/** isPodFailed: Failed, or — unless only failed pods are replaced — deleted before succeeding. */
function isPodFailed(pod: KObject, job: KObject): boolean {
  const phase = pod.status?.phase;
  if (onlyReplaceFailedPods(job)) return phase === 'Failed';
  return phase === 'Failed' || (!!pod.metadata?.deletionTimestamp && phase !== 'Succeeded');
}

/** When a pod finished: its last container's finish, its Ready=False transition, its deletion, or its creation. */
function podFinishedTime(pod: KObject): number {
  const statuses = (pod.status?.containerStatuses ?? []) as KObject[];
  let latest: number | undefined;
  let all = statuses.length > 0;
  for (const s of statuses) {
    const t = parseTime(s.state?.terminated?.finishedAt);
    if (t === undefined) {
      all = false;
      break;
    }
    latest = Math.max(latest ?? t, t);
  }
  if (all && latest !== undefined) return latest;
  const ready = ((pod.status?.conditions ?? []) as KObject[]).find((c) => c.type === 'Ready');
  const readyFalse = ready?.status === 'False' ? parseTime(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deleted = parseTime(pod.metadata?.deletionTimestamp);
  if (deleted !== undefined) return deleted - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(pod.metadata?.creationTimestamp) ?? 0;
}

/** The delay before the next pod may be created after `failures` consecutive failures. */
export function podFailureBackoffRemaining(record: BackoffRecord, nowMs: number): number {
  if (!record.failuresAfterLastSuccess || record.lastFailureTime === undefined) return 0;
  let backoff = defaultPodFailureBackoffMs;
  for (let i = 1; i < record.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxPodFailureBackoffMs) {
      backoff = maxPodFailureBackoffMs;
      break;
    }
  }
  const elapsed = nowMs - record.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}

/** ensureJobConditionStatus: updates a condition in place, or appends it when it becomes True. */
function ensureCondition(job: KObject, c: Condition, now: string): boolean {
  const status = (job.status ??= {});
  const conditions: KObject[] = (status.conditions ??= []);
  const existing = conditions.find((x) => x.type === c.type);
  if (existing) {
    if (existing.status === c.status && existing.reason === c.reason && existing.message === c.message) return false;
    if (existing.status !== c.status) existing.lastTransitionTime = now;
    existing.status = c.status;
    existing.reason = c.reason;
    existing.message = c.message;
    existing.lastProbeTime = now;
    return true;
  }
  if (c.status !== 'True') {
    if (conditions.length === 0) delete status.conditions;
    return false;
  }
  conditions.push({ type: c.type, status: c.status, lastProbeTime: now, lastTransitionTime: now, reason: c.reason, message: c.message });
  return true;
}

export class JobController implements Controller {
  readonly name = 'job-controller';
  readonly queue = new WorkQueue({ name: 'job' });
  /** Pods that still carry the tracking finalizer but whose Job no longer wants them. */
  readonly orphanQueue = new WorkQueue({ name: 'job_orphan_pod' });
  readonly requeue = new DelayedRequeue(this.queue);
  private readonly jobs: Informer;
  private readonly pods: Informer;
  private readonly recorder: EventRecorder;
  private readonly expectations: ControllerExpectations;
  /** Pod uids whose finalizer removal this controller issued but has not yet seen, per Job. */
  private readonly finalizerExpectations = new Map<string, Set<string>>();
  private readonly backoffs = new Map<string, BackoffRecord>();
  /** The last resourceVersion this controller wrote per Job: older cached copies are stale. */
  private readonly written = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('job-controller');
    this.expectations = new ControllerExpectations(() => ctx.now().getTime());
    this.jobs = ctx.informers.for(Resources.jobs);
    this.pods = ctx.informers.for(Resources.pods);
    indexByControllerUid(this.pods);
    this.jobs.addEventHandlers({
      add: (j) => this.queue.add(keyOf(j)),
      update: (_old, cur) => {
        this.queue.add(keyOf(cur));
        // The Job should not be finished while pods keep the finalizer; this is the backstop.
        if (isJobFinished(cur)) this.cleanupPodFinalizers(cur);
      },
      delete: (j) => {
        this.queue.add(keyOf(j));
        this.cleanupPodFinalizers(j);
      },
    });
    this.pods.addEventHandlers({
      add: (p) => this.onPod(undefined, p, false),
      update: (old, cur) => this.onPod(old, cur, false),
      delete: (p) => this.onPod(undefined, p, true),
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.jobs, this.pods],
      pools: [
        { queue: this.queue, workers, sync: (k) => this.sync(k) },
        { queue: this.orphanQueue, workers: 1, sync: (k) => this.syncOrphanPod(k) },
      ],
      stopped: () => this.requeue.stop(),
    });
  }

  private resolveJob(namespace: string | undefined, ref: OwnerReference | undefined): KObject | undefined {
    return resolveControllerRef(this.jobs, 'Job', namespace, ref);
  }

  private cleanupPodFinalizers(job: KObject): void {
    for (const pod of controlledBy(this.pods, job)) if (hasTrackingFinalizer(pod)) this.orphanQueue.add(keyOf(pod));
  }

  /** Pod events: expectations, finalizer observations, and which Job (or orphan cleanup) to wake. */
  private onPod(old: KObject | undefined, pod: KObject, final: boolean): void {
    if (old && old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const ref = controllerRefOf(pod);
    const oldRef = old ? controllerRefOf(old) : undefined;
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.resolveJob(old!.metadata?.namespace, oldRef);
      if (prev) this.queue.add(keyOf(prev));
    }
    const deleting = final || !!pod.metadata?.deletionTimestamp;
    if (!ref) {
      if (hasTrackingFinalizer(pod)) this.orphanQueue.add(keyOf(pod));
      // An orphan may be adopted by a Job whose selector matches it.
      if (!deleting && (!old || !semanticEqual(old.metadata?.labels, pod.metadata?.labels))) for (const job of ownersSelecting(this.jobs, pod)) this.queue.add(keyOf(job));
      return;
    }
    const job = this.resolveJob(pod.metadata?.namespace, ref);
    if (!job || isJobFinished(job)) {
      if (hasTrackingFinalizer(pod)) this.orphanQueue.add(keyOf(pod));
      return;
    }
    const key = keyOf(job);
    if (!old && !final && !pod.metadata?.deletionTimestamp) this.expectations.creationObserved(key);
    else if (deleting && (final || !old?.metadata?.deletionTimestamp)) this.expectations.deletionObserved(key);
    if (final || !hasTrackingFinalizer(pod)) this.finalizerExpectations.get(key)?.delete(pod.metadata?.uid ?? '');
    this.queue.add(key);
  }

  /** handleOrphanPod: drop the tracking finalizer from a pod no unfinished Job owns. */
  async syncOrphanPod(key: string): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const job = this.resolveJob(pod.metadata?.namespace, controllerRefOf(pod));
    if (job && !isJobFinished(job)) return;
    await this.removeTrackingFinalizer(pod);
  }

  /**
   * Removes the tracking finalizer with a JSON patch that first tests the list it read, so a
   * concurrent finalizer change fails the patch instead of being overwritten; the last
   * finalizer takes the field with it (kube omits an empty list).
   */
  private async removeTrackingFinalizer(pod: KObject): Promise<void> {
    const current: string[] = pod.metadata?.finalizers ?? [];
    const rest = current.filter((f) => f !== jobTrackingFinalizer);
    const ops: KObject[] = [{ op: 'test', path: '/metadata/finalizers', value: current }];
    ops.push(rest.length ? { op: 'replace', path: '/metadata/finalizers', value: rest } : { op: 'remove', path: '/metadata/finalizers' });
    try {
      await this.ctx.client.patch(Resources.pods, pod.metadata?.namespace, pod.metadata!.name!, 'json', ops);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private now(): Date {
    return this.ctx.now();
  }

  /** syncJob: the whole decision for one Job, from the cache. */
  async sync(key: string): Promise<void> {
    const shared = this.jobs.get(key);
    if (!shared) {
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoffs.delete(key);
      this.written.delete(key);
      return;
    }
    // Our own last status write has not reached the cache: a decision now would double-count.
    if (Number(shared.metadata?.resourceVersion ?? 0) < (this.written.get(key) ?? 0)) return;
    const managedBy = shared.spec?.managedBy;
    if (managedBy && managedBy !== jobControllerName) return;
    if (isJobFinished(shared)) {
      this.backoffs.delete(key);
      return;
    }
    const job: KObject = structuredClone(shared);
    const mode = job.spec?.completionMode;
    if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.recorder.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    job.status ??= {};
    const uncounted: KObject = (job.status.uncountedTerminatedPods ??= {});
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.podsForJob(job);
    const expectedRm = this.finalizerExpectations.get(key) ?? new Set<string>();
    for (const uid of [...expectedRm]) {
      const p = pods.find((x) => x.metadata?.uid === uid);
      if (!p || !hasTrackingFinalizer(p)) expectedRm.delete(uid);
    }
    const activePods = pods.filter(isPodActive);
    const st: SyncState = {
      key,
      job,
      pods,
      activePods,
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      expectedRmFinalizers: expectedRm,
      succeeded: 0,
      prevSucceededIndexes: new Set(),
      succeededIndexes: new Set(),
      newBackoff: { failuresAfterLastSuccess: 0 },
      terminating: pods.filter(isPodTerminating).length,
      ready: activePods.filter(isPodReady).length,
    };
    let active = activePods.length;
    const { succeeded: newSucceeded, failed: newFailed } = this.newFinishedPods(st);
    st.succeeded = (job.status.succeeded ?? 0) + newSucceeded.length + st.uncountedSucceeded.size;
    const failed = (job.status.failed ?? 0) + newFailed.length + st.uncountedFailed.size;
    const nowIso = rfc3339(this.now());
    if (!job.status.startTime && !isSuspended(job)) job.status.startTime = nowIso;
    st.newBackoff = this.nextBackoffRecord(key, newSucceeded, newFailed);

    const successCriteriaMet = jobCondition(job, 'SuccessCriteriaMet');
    if (successCriteriaMet?.status === 'True')
      st.finishedCondition = { type: 'SuccessCriteriaMet', status: 'True', reason: successCriteriaMet.reason ?? '', message: successCriteriaMet.message ?? '' };
    if (!st.finishedCondition) {
      const target = jobCondition(job, 'FailureTarget');
      if (target?.status === 'True') st.finishedCondition = { type: 'Failed', status: 'True', reason: target.reason ?? '', message: target.message ?? '' };
    }
    if (!st.finishedCondition) {
      if (failed > (job.spec?.backoffLimit ?? 6) || this.pastBackoffLimitOnFailure(job, pods)) {
        st.finishedCondition = { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (this.pastActiveDeadline(job)) {
        st.finishedCondition = { type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      } else if (typeof job.spec?.activeDeadlineSeconds === 'number' && !isSuspended(job)) {
        const started = parseTime(job.status.startTime) ?? this.now().getTime();
        this.requeue.after(key, job.spec.activeDeadlineSeconds * 1000 - (this.now().getTime() - started));
      }
    }
    if (isIndexed(job)) {
      const completions = job.spec?.completions ?? 0;
      st.prevSucceededIndexes = parseIndexes(job.status.completedIndexes, completions);
      st.succeededIndexes = new Set(st.prevSucceededIndexes);
      for (const p of pods) {
        const ix = completionIndexOf(p);
        if (p.status?.phase === 'Succeeded' && hasTrackingFinalizer(p) && ix >= 0 && ix < completions) st.succeededIndexes.add(ix);
      }
      st.succeeded = st.succeededIndexes.size;
    }

    let suspendChanged = false;
    let manageError: unknown;
    if (st.finishedCondition) {
      const { deleted, deletedReady, error } = await this.deleteActivePods(job, activePods);
      // Pods still leaving, or ones the cache may not show yet: not finished this round.
      if (deleted !== active || !satisfied) st.finishedCondition = undefined;
      active -= deleted;
      st.terminating += deleted;
      st.ready -= deletedReady;
      manageError = error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata?.deletionTimestamp) {
        try {
          active = await this.manageJob(st);
        } catch (err) {
          manageError = err;
          active = st.activePods.length;
        }
        managed = true;
      }
      const completions = job.spec?.completions;
      const complete = typeof completions === 'number' ? st.succeeded >= completions && active === 0 : st.succeeded > 0 && active === 0;
      if (complete) {
        st.finishedCondition = { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
      } else if (managed) {
        if (isSuspended(job)) {
          if (ensureCondition(job, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, nowIso)) {
            suspendChanged = true;
            this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(job, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, nowIso)) {
          suspendChanged = true;
          this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts continuous activity: it restarts on resume.
          job.status.startTime = nowIso;
        }
      }
    }
    const status = job.status;
    const needsUpdate = suspendChanged || active !== (status.active ?? 0) || st.ready !== status.ready || st.terminating !== status.terminating;
    status.active = active;
    status.ready = st.ready;
    status.terminating = st.terminating;
    await this.trackStatusAndRemoveFinalizers(st, needsUpdate);
    if (manageError) throw manageError;
  }

  /** getPodsForJob: owned pods plus adopted orphans (adoption adds the tracking finalizer). */
  private async podsForJob(job: KObject): Promise<KObject[]> {
    const selector = fromLabelSelector(job.spec?.selector);
    const candidates = claimCandidates(this.pods, job);
    return claimObjects(candidates, {
      client: this.ctx.client,
      resource: Resources.pods,
      controller: job,
      controllerResource: Resources.jobs,
      controllerApiVersion: 'batch/v1',
      controllerKind: 'Job',
      match: (p) => selector.matches(p.metadata?.labels),
      adoptFinalizers: [jobTrackingFinalizer],
    });
  }

  /** Finished pods not yet accounted for: they still carry the finalizer and are not in uncountedTerminatedPods. */
  private newFinishedPods(st: SyncState): { succeeded: KObject[]; failed: KObject[] } {
    const succeeded: KObject[] = [];
    const failed: KObject[] = [];
    const completions = st.job.spec?.completions ?? 0;
    for (const p of st.pods) {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p) || st.expectedRmFinalizers.has(uid)) continue;
      if (isIndexed(st.job)) {
        const ix = completionIndexOf(p);
        if (ix < 0 || ix >= completions) continue;
      }
      if (p.status?.phase === 'Succeeded' && !st.uncountedSucceeded.has(uid)) succeeded.push(p);
      else if (isPodFailed(p, st.job) && !st.uncountedFailed.has(uid)) failed.push(p);
    }
    return { succeeded, failed };
  }

  /** The backoff record after this sync's newly finished pods (a success resets the count). */
  private nextBackoffRecord(key: string, succeeded: KObject[], failed: KObject[]): BackoffRecord {
    const prev = this.backoffs.get(key) ?? { failuresAfterLastSuccess: 0 };
    const failedTimes = failed.map(podFinishedTime).sort((a, b) => a - b);
    if (succeeded.length === 0) {
      if (failedTimes.length === 0) return { ...prev };
      return { failuresAfterLastSuccess: prev.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] };
    }
    const lastSuccess = Math.max(...succeeded.map(podFinishedTime));
    const after = failedTimes.filter((t) => t > lastSuccess);
    return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] } : { failuresAfterLastSuccess: 0 };
  }

  /** restartPolicy OnFailure: container restarts of running pods count against backoffLimit. */
  private pastBackoffLimitOnFailure(job: KObject, pods: KObject[]): boolean {
    if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
    let restarts = 0;
    for (const p of pods) {
      if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
      for (const s of [...((p.status?.initContainerStatuses ?? []) as KObject[]), ...((p.status?.containerStatuses ?? []) as KObject[])]) restarts += s.restartCount ?? 0;
    }
    const limit = job.spec?.backoffLimit ?? 6;
    return limit === 0 ? restarts > 0 : restarts >= limit;
  }

  private pastActiveDeadline(job: KObject): boolean {
    const deadline = job.spec?.activeDeadlineSeconds;
    const start = parseTime(job.status?.startTime);
    if (typeof deadline !== 'number' || start === undefined || isSuspended(job)) return false;
    return this.now().getTime() - start >= deadline * 1000;
  }

  /** Deletes active pods of a finishing Job, keeping their finalizers so they are counted. */
  private async deleteActivePods(job: KObject, pods: KObject[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (p) => {
        try {
          await this.deletePod(job, p);
        } catch (err) {
          if (!isNotFound(err)) {
            error ??= err;
            return;
          }
        }
        deleted++;
        if (isPodReady(p)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  private async deletePod(job: KObject, pod: KObject): Promise<void> {
    try {
      await this.ctx.client.delete(Resources.pods, pod.metadata?.namespace, pod.metadata!.name!);
      this.recorder.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
    } catch (err) {
      if (!isNotFound(err)) this.recorder.event(job, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** Pods the Job no longer wants (scale down, suspend): finalizer first, so they are not counted as failures. */
  private async deleteJobPods(st: SyncState, pods: KObject[]): Promise<{ removed: number; removedReady: number; error?: unknown }> {
    let removed = 0;
    let removedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (p) => {
        try {
          if (hasTrackingFinalizer(p)) await this.removeTrackingFinalizer(p);
          await this.deletePod(st.job, p);
        } catch (err) {
          this.expectations.deletionObserved(st.key);
          if (!isNotFound(err)) {
            error ??= err;
            return;
          }
        }
        removed++;
        if (isPodReady(p)) removedReady++;
      }),
    );
    return { removed, removedReady, error };
  }

  /** manageJob: the number of active pods after creating or deleting toward the wanted count. */
  private async manageJob(st: SyncState): Promise<number> {
    const { job, key } = st;
    let active = st.activePods.length;
    const parallelism = job.spec?.parallelism ?? 1;
    if (isSuspended(job)) {
      const toDelete = this.activePodsForRemoval(job, st.activePods, active);
      this.expectations.expect(key, 0, toDelete.length);
      const { removed, removedReady, error } = await this.deleteJobPods(st, toDelete);
      st.terminating += removed;
      st.ready -= removedReady;
      if (error) throw error;
      return active - removed;
    }
    const completions = job.spec?.completions;
    let wantActive: number;
    if (typeof completions !== 'number') wantActive = st.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - st.succeeded, parallelism));

    const rmAtLeast = Math.max(0, active - wantActive);
    const toDelete = this.activePodsForRemoval(job, st.activePods, rmAtLeast).slice(0, maxPodChangesPerSync);
    if (toDelete.length) {
      // Creations and deletions never mix in one sync; deletions win.
      this.expectations.expect(key, 0, toDelete.length);
      const { removed, removedReady, error } = await this.deleteJobPods(st, toDelete);
      st.terminating += removed;
      st.ready -= removedReady;
      if (error) throw error;
      return active - removed;
    }

    const terminating = onlyReplaceFailedPods(job) ? st.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return active;
    const remaining = podFailureBackoffRemaining(st.newBackoff, this.now().getTime());
    if (remaining > 0) {
      this.requeue.after(key, remaining);
      return active;
    }
    diff = Math.min(diff, maxPodChangesPerSync);
    let indexes: number[] = [];
    if (isIndexed(job)) {
      indexes = firstPendingIndexes(diff, completions ?? 0, st.succeededIndexes, st.activePods);
      diff = indexes.length;
      if (diff === 0) return active;
    }
    this.expectations.expect(key, diff, 0);
    const template: KObject = structuredClone(job.spec?.template ?? {});
    if (isIndexed(job)) addCompletionIndexEnv(template);
    template.metadata ??= {};
    template.metadata.finalizers = [...new Set([...(template.metadata.finalizers ?? []), jobTrackingFinalizer])];
    const ref = newControllerRef(job, 'batch/v1', 'Job');
    const name = job.metadata!.name!;
    const { successes, error } = await slowStartBatch(diff, slowStartInitialBatchSize, async (i) => {
      const pod = podFromTemplate(template, job, ref);
      if (isIndexed(job)) {
        const ix = indexes[i];
        pod.metadata!.annotations = { ...(pod.metadata!.annotations ?? {}), [completionIndexAnnotation]: String(ix) };
        pod.metadata!.labels = { ...(pod.metadata!.labels ?? {}), [completionIndexAnnotation]: String(ix) };
        pod.spec.hostname = `${name}-${ix}`;
        pod.metadata!.generateName = `${name}-${ix}-`;
      }
      try {
        const created = await this.ctx.client.create(Resources.pods, job.metadata?.namespace, pod);
        this.recorder.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      } catch (err) {
        this.recorder.event(job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
        throw err;
      }
    });
    // Creations that failed or were skipped will never be observed.
    for (let i = successes; i < diff; i++) this.expectations.creationObserved(key);
    if (error) throw error;
    return active + successes;
  }

  /** activePodsForRemoval: repeated or invalid indexes first, then the least progressed pods. */
  private activePodsForRemoval(job: KObject, pods: KObject[], rmAtLeast: number): KObject[] {
    let rm: KObject[] = [];
    let left = pods;
    if (isIndexed(job)) ({ rm, left } = duplicateIndexPodsForRemoval(pods, job.spec?.completions ?? 0));
    if (rm.length < rmAtLeast) rm = [...rm, ...[...left].sort(compareActivePods).slice(0, rmAtLeast - rm.length)];
    return rm;
  }

  /**
   * trackJobStatusAndRemoveFinalizers: (1) record newly finished pods in
   * uncountedTerminatedPods, (2) remove their finalizers, (3) move them into the counters,
   * (4) add the terminal condition once nothing is uncounted or terminating.
   */
  private async trackStatusAndRemoveFinalizers(st: SyncState, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const { job } = st;
    const status = job.status;
    const indexed = isIndexed(job);
    const completions = job.spec?.completions ?? 0;
    const pods = indexed ? [...st.pods].sort((a, b) => completionIndexOf(a) - completionIndexOf(b)) : st.pods;
    const withFinalizer = new Set<string>();
    for (const p of pods) if (hasTrackingFinalizer(p) && !st.expectedRmFinalizers.has(p.metadata?.uid ?? '')) withFinalizer.add(p.metadata!.uid!);
    if (this.cleanUncounted(status, withFinalizer)) needsFlush = true;

    const uncounted: KObject = status.uncountedTerminatedPods;
    const toRemoveFinalizer: KObject[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(p) || st.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(p, job);
      // The finalizer stays on running pods of a running Job.
      if (!(job.metadata?.deletionTimestamp || st.finishedCondition || p.status?.phase === 'Succeeded' || failed)) continue;
      toRemoveFinalizer.push(p);
      if (p.status?.phase === 'Succeeded' && !st.uncountedFailed.has(uid)) {
        if (indexed) {
          const ix = completionIndexOf(p);
          if (ix >= 0 && ix < completions && !st.prevSucceededIndexes.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!st.uncountedSucceeded.has(uid)) {
          (uncounted.succeeded ??= []).push(uid);
          st.uncountedSucceeded.add(uid);
          needsFlush = true;
        }
      } else if (failed || (st.finishedCondition && st.finishedCondition.type !== 'SuccessCriteriaMet')) {
        // Once the Job is finishing every unfinished pod counts as failed.
        const ix = completionIndexOf(p);
        if (!st.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          (uncounted.failed ??= []).push(uid);
          st.uncountedFailed.add(uid);
          needsFlush = true;
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= maxUncountedPods) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      for (const ix of newSucceededIndexes) st.succeededIndexes.add(ix);
      const text = formatIndexes(st.succeededIndexes);
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = st.succeededIndexes.size;
      if (text) status.completedIndexes = text;
      else delete status.completedIndexes;
    }
    const nowIso = rfc3339(this.now());
    if (st.finishedCondition?.type === 'FailureTarget') {
      // The interim condition records why before the finalizers (and the pods) go.
      ensureCondition(job, st.finishedCondition, nowIso);
      needsFlush = true;
      st.finishedCondition = { ...st.finishedCondition, type: 'Failed' };
    }
    if (st.finishedCondition?.type === 'SuccessCriteriaMet') {
      if (jobCondition(job, 'SuccessCriteriaMet')?.status !== 'True') {
        ensureCondition(job, st.finishedCondition, nowIso);
        needsFlush = true;
      }
      st.finishedCondition = { ...st.finishedCondition, type: 'Complete' };
    }

    // (1) Flush the uncounted pods (and interim conditions) before touching finalizers.
    if (needsFlush) {
      await this.writeStatus(st);
      this.backoffs.set(st.key, st.newBackoff);
      needsFlush = false;
    }
    // (2) Remove finalizers; (3) count the pods whose finalizer is gone.
    let rmError: unknown;
    if (toRemoveFinalizer.length) {
      const expected = this.finalizerExpectations.get(st.key) ?? new Set<string>();
      this.finalizerExpectations.set(st.key, expected);
      await Promise.all(
        toRemoveFinalizer.map(async (p) => {
          const uid = p.metadata!.uid!;
          expected.add(uid);
          try {
            await this.removeTrackingFinalizer(p);
            withFinalizer.delete(uid);
          } catch (err) {
            expected.delete(uid);
            rmError ??= err;
          }
        }),
      );
    }
    if (this.cleanUncounted(job.status, withFinalizer)) needsFlush = true;
    if (rmError && needsFlush) await this.writeStatus(st);
    if (rmError) throw rmError;
    // (4) The terminal condition waits for every pod to be counted and gone from the node.
    const finished = !reachedMax && this.enactJobFinished(st);
    if (finished) needsFlush = true;
    if (needsFlush) {
      await this.writeStatus(st);
      if (finished) this.recordJobFinished(st.job, st.finishedCondition!);
    }
  }

  /** Moves uncounted pods whose finalizer is gone into succeeded/failed. */
  private cleanUncounted(status: KObject, withFinalizer: Set<string>): boolean {
    let changed = false;
    const uncounted: KObject = (status.uncountedTerminatedPods ??= {});
    for (const [field, counter] of [['succeeded', 'succeeded'], ['failed', 'failed']] as const) {
      const list: string[] = uncounted[field] ?? [];
      const keep = list.filter((uid) => withFinalizer.has(uid));
      if (keep.length !== list.length) {
        changed = true;
        status[counter] = (status[counter] ?? 0) + list.length - keep.length;
      }
      if (keep.length) uncounted[field] = keep;
      else delete uncounted[field];
    }
    return changed;
  }

  private enactJobFinished(st: SyncState): boolean {
    const c = st.finishedCondition;
    if (!c) return false;
    const uncounted: KObject = st.job.status.uncountedTerminatedPods ?? {};
    if ((uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) > 0) return false;
    if (st.terminating > 0) return false;
    const nowIso = rfc3339(this.now());
    ensureCondition(st.job, c, nowIso);
    if (c.type === 'Complete') st.job.status.completionTime = jobCondition(st.job, 'Complete')?.lastTransitionTime ?? nowIso;
    return true;
  }

  private recordJobFinished(job: KObject, c: Condition): void {
    if (c.type === 'Complete') {
      const completions = job.spec?.completions;
      if (typeof completions === 'number' && (job.status?.succeeded ?? 0) > completions)
        this.recorder.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.recorder.event(job, 'Warning', c.reason, c.message);
    }
  }

  /** UpdateStatus with the version read: a concurrent change is a conflict and a retry. */
  private async writeStatus(st: SyncState): Promise<void> {
    const written = await this.ctx.client.update(Resources.jobs, st.job.metadata?.namespace, st.job, { subresource: 'status' });
    this.written.set(st.key, Number(written.metadata?.resourceVersion ?? 0));
    // Keep our working status (the server may drop empty fields), take the new version.
    st.job = { ...written, status: st.job.status };
  }
}
