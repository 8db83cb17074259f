/**
 * @module Metrics of the in-process components on the API server's /metrics, with the
 * names kube-controller-manager and kube-scheduler export: workqueue_* per queue name,
 * scheduler_* from the scheduler's counters. Values are read when Prometheus scrapes.
 */
import type { Registry } from 'prom-client';
import { workQueues } from '../client/index.js';
import type { RunningScheduler } from '../scheduler/index.js';

type Labels = Record<string, string | number>;
interface Sample {
  value: number;
  labels: Labels;
  metricName?: string;
}
interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: () => Sample[];
}

/** A metric family computed at scrape time (prom-client's Metric protocol). */
class ComputedMetric {
  readonly aggregator = 'sum';
  constructor(private readonly family: Family) {}
  get name() {
    return this.family.name;
  }
  get help() {
    return this.family.help;
  }
  get type() {
    return this.family.type;
  }
  async get() {
    return { name: this.family.name, help: this.family.help, type: this.family.type, aggregator: this.aggregator, values: this.family.samples() };
  }
  reset() {}
}

function histogramSamples(name: string, labels: Labels, h: { buckets: number[]; counts: number[]; sum: number; count: number }): Sample[] {
  return [
    ...h.buckets.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: h.counts[i] })),
    { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count },
    { metricName: `${name}_sum`, labels, value: h.sum },
    { metricName: `${name}_count`, labels, value: h.count },
  ];
}

function register(registry: Registry, family: Family): void {
  registry.registerMetric(new ComputedMetric(family) as unknown as Parameters<Registry['registerMetric']>[0]);
}

export function registerComponentMetrics(registry: Registry, scheduler?: RunningScheduler): void {
  const queues = () => [...workQueues];
  register(registry, {
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    type: 'gauge',
    samples: () => queues().map((q) => ({ labels: { name: q.name }, value: q.len() })),
  });
  register(registry, {
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    type: 'counter',
    samples: () => queues().map((q) => ({ labels: { name: q.name }, value: q.stats.adds })),
  });
  register(registry, {
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    type: 'counter',
    samples: () => queues().map((q) => ({ labels: { name: q.name }, value: q.stats.retries })),
  });
  if (!scheduler) return;
  const m = scheduler.metrics;
  register(registry, {
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result.',
    type: 'counter',
    samples: () => Object.entries(m.scheduleAttempts).map(([result, value]) => ({ labels: { result, profile: 'default-scheduler' }, value })),
  });
  register(registry, {
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    type: 'histogram',
    samples: () =>
      Object.entries(m.schedulingAttemptDuration).flatMap(([result, h]) =>
        histogramSamples('scheduler_scheduling_attempt_duration_seconds', { result, profile: 'default-scheduler' }, h),
      ),
  });
  register(registry, {
    name: 'scheduler_pod_scheduling_sli_duration_seconds',
    help: 'E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts.',
    type: 'histogram',
    samples: () => histogramSamples('scheduler_pod_scheduling_sli_duration_seconds', {}, m.podSchedulingSliDuration),
  });
  register(registry, {
    name: 'scheduler_pending_pods',
    help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
    type: 'gauge',
    samples: () => Object.entries(m.pendingPods).map(([queue, value]) => ({ labels: { queue }, value })),
  });
}
