/**
 * @module kube-controller-manager's ttl-after-finished-controller: deletes a finished Job
 * (foreground, so its pods go first) once spec.ttlSecondsAfterFinished has passed since its
 * Complete or Failed condition, re-reading the Job from the API before deleting.
 */
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, splitKey, type Informer } from '../../client/index.js';
import { DelayedRequeue, isNotFound, runController } from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { isJobFinished, jobFinishTime } from './controller.js';

/** needsCleanup: a TTL is set and the Job has finished. */
export function needsTtlCleanup(job: KObject): boolean {
  return typeof job.spec?.ttlSecondsAfterFinished === 'number' && isJobFinished(job) && !job.metadata?.deletionTimestamp;
}

/** Milliseconds until the Job expires (≤ 0: expired), or undefined when it has no finish time. */
export function timeLeft(job: KObject, nowMs: number): number | undefined {
  const finished = jobFinishTime(job);
  if (finished === undefined) return undefined;
  return finished + job.spec.ttlSecondsAfterFinished * 1000 - nowMs;
}

export class TtlAfterFinishedController implements Controller {
  readonly name = 'ttl-after-finished-controller';
  readonly queue = new WorkQueue({ name: 'ttl_jobs_to_delete' });
  readonly requeue = new DelayedRequeue(this.queue);
  private readonly jobs: Informer;

  constructor(private readonly ctx: ControllerContext) {
    this.jobs = ctx.informers.for(Resources.jobs);
    const enqueue = (j: KObject) => {
      if (needsTtlCleanup(j)) this.queue.add(keyOf(j));
    };
    this.jobs.addEventHandlers({ add: enqueue, update: (_o, n) => enqueue(n) });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.jobs],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
      stopped: () => this.requeue.stop(),
    });
  }

  async sync(key: string): Promise<void> {
    const cached = this.jobs.get(key);
    if (!cached || !needsTtlCleanup(cached)) return;
    const now = this.ctx.now().getTime();
    const left = timeLeft(cached, now);
    if (left === undefined) return;
    if (left > 0) {
      this.requeue.after(key, left);
      return;
    }
    // The cache may be behind (TTL changed, Job recreated): decide again on a fresh read.
    const { namespace, name } = splitKey(key);
    let fresh: KObject;
    try {
      fresh = await this.ctx.client.get(Resources.jobs, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!needsTtlCleanup(fresh)) return;
    const freshLeft = timeLeft(fresh, now);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) {
      this.requeue.after(key, freshLeft);
      return;
    }
    try {
      await this.ctx.client.delete(Resources.jobs, namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid } });
      this.ctx.log({ level: 'info', msg: 'deleted finished job after TTL', job: key });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
