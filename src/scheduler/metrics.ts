/**
 * @module The scheduler's metrics as a plain object (kube-scheduler's
 * scheduler_schedule_attempts_total, scheduler_scheduling_attempt_duration_seconds,
 * scheduler_pod_scheduling_sli_duration_seconds, scheduler_pending_pods,
 * scheduler_preemption_attempts_total / victims), for a Prometheus endpoint to expose.
 */

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** A cumulative histogram: counts[i] observations were ≤ buckets[i] seconds. */
export interface Histogram {
  buckets: number[];
  counts: number[];
  sum: number;
  count: number;
}

export function exponentialBuckets(start: number, factor: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0, v = start; i < n; i++, v *= factor) out.push(Number(v.toPrecision(12)));
  return out;
}

export function newHistogram(buckets: number[]): Histogram {
  return { buckets, counts: buckets.map(() => 0), sum: 0, count: 0 };
}

export function observe(h: Histogram, seconds: number): void {
  h.sum += seconds;
  h.count++;
  for (let i = h.buckets.length - 1; i >= 0 && seconds <= h.buckets[i]; i--) h.counts[i]++;
}

export interface SchedulerMetrics {
  scheduleAttempts: Record<AttemptResult, number>;
  /** One attempt (the scheduling algorithm), by result. */
  schedulingAttemptDuration: Record<AttemptResult, Histogram>;
  /** From a pod's first attempt until its binding succeeded. */
  podSchedulingSliDuration: Histogram;
  /** Pods waiting per queue, read live. */
  readonly pendingPods: Record<'active' | 'backoff' | 'unschedulable' | 'gated', number>;
  bindings: { inFlight: number; succeeded: number; failed: number };
  preemptionAttempts: number;
  preemptionVictims: number;
  /** Nodes filtered in the last attempt (how far percentageOfNodesToScore let it search). */
  lastEvaluatedNodes: number;
}

export function newMetrics(pending: () => SchedulerMetrics['pendingPods']): SchedulerMetrics {
  const attempt = () => newHistogram(exponentialBuckets(0.001, 2, 15));
  return {
    scheduleAttempts: { scheduled: 0, unschedulable: 0, error: 0 },
    schedulingAttemptDuration: { scheduled: attempt(), unschedulable: attempt(), error: attempt() },
    podSchedulingSliDuration: newHistogram(exponentialBuckets(0.01, 2, 20)),
    get pendingPods() {
      return pending();
    },
    bindings: { inFlight: 0, succeeded: 0, failed: 0 },
    preemptionAttempts: 0,
    preemptionVictims: 0,
    lastEvaluatedNodes: 0,
  };
}
