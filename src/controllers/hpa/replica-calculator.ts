/**
 * @module The HPA's replica arithmetic (kube's podautoscaler/replica_calculator.go and the
 * resource metrics client): pod metrics from PodMetrics in milli-units, requests summed
 * over containers, pods grouped into ready / unready / missing / ignored, the usage ratio
 * against the target, the tolerance band, and the conservative treatment of missing and
 * unready pods (missing ones count as at target when scaling down and as idle when
 * scaling up; unready ones as idle when scaling up; a direction change means no change).
 */
import type { KObject } from '../../api/types.js';
import { tryParseQuantity } from '../../api/quantity.js';

/** One pod's usage in milli-units (millicores, or bytes × 1000) with its reading's time. */
export interface PodMetric {
  timestamp: number;
  windowMs: number;
  value: number;
}

export type PodMetricsInfo = Map<string, PodMetric>;

/** A failure computing a replica count; the message is the one kube-controller-manager reports. */
export class ReplicaCalculationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaCalculationError';
  }
}

function parseDurationMs(s: unknown): number {
  if (typeof s !== 'string') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) total += Number(m[1]) * unit[m[2]];
  return total;
}

function time(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** A quantity's MilliValue (rounded up, as resource.Quantity.MilliValue does). */
export function milliValue(q: unknown): number | undefined {
  const parsed = tryParseQuantity(q);
  if (!parsed) return undefined;
  return Math.ceil(parsed.scaledValue(-3) - 1e-9);
}

/**
 * The resource metrics client's GetResourceMetric over a PodMetricsList: each pod's sum
 * over its containers (or one container's value), pods missing a container's value dropped.
 */
export function podMetricsFromList(list: KObject, resource: string, container = ''): { metrics: PodMetricsInfo; timestamp: number } {
  const items: KObject[] = Array.isArray(list.items) ? list.items : [];
  if (items.length === 0) throw new ReplicaCalculationError('no metrics returned from resource metrics API');
  const metrics: PodMetricsInfo = new Map();
  for (const m of items) {
    const containers: KObject[] = Array.isArray(m.containers) ? m.containers : [];
    let sum = 0;
    let missing = containers.length === 0;
    let found = container === '';
    for (const c of containers) {
      if (container && c.name !== container) continue;
      found = true;
      const v = milliValue(c.usage?.[resource]);
      if (v === undefined) {
        missing = true;
        break;
      }
      sum += v;
    }
    if (!missing && found) metrics.set(String(m.metadata?.name), { timestamp: time(m.timestamp) ?? 0, windowMs: parseDurationMs(m.window), value: sum });
  }
  return { metrics, timestamp: time(items[0].timestamp) ?? 0 };
}

function condition(pod: KObject, type: string): KObject | undefined {
  return ((pod.status?.conditions ?? []) as KObject[]).find((c) => c.type === type);
}

export interface GroupedPods {
  readyPodCount: number;
  unreadyPods: Set<string>;
  missingPods: Set<string>;
  ignoredPods: Set<string>;
}

/**
 * groupPods: deleted and failed pods are ignored; pending ones unready; pods without a
 * reading missing; for CPU, a pod is unready when not Ready, or — inside the CPU
 * initialization period — when its reading predates one window after its last readiness
 * change, or — later — when it has never become ready within the initial readiness delay.
 */
export function groupPods(
  pods: KObject[],
  metrics: PodMetricsInfo,
  resource: string,
  cpuInitializationPeriodMs: number,
  delayOfInitialReadinessStatusMs: number,
  now: number,
): GroupedPods {
  const out: GroupedPods = { readyPodCount: 0, unreadyPods: new Set(), missingPods: new Set(), ignoredPods: new Set() };
  for (const pod of pods) {
    const name = String(pod.metadata?.name);
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      out.ignoredPods.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      out.unreadyPods.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      out.missingPods.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = condition(pod, 'Ready');
      const start = time(pod.status?.startTime);
      let unready: boolean;
      if (!ready || start === undefined) unready = true;
      else {
        const transition = time(ready.lastTransitionTime) ?? 0;
        if (start + cpuInitializationPeriodMs > now) unready = ready.status === 'False' || metric.timestamp < transition + metric.windowMs;
        else unready = ready.status === 'False' && start + delayOfInitialReadinessStatusMs > transition;
      }
      if (unready) {
        out.unreadyPods.add(name);
        continue;
      }
    }
    out.readyPodCount++;
  }
  return out;
}

/** calculatePodRequests: each pod's request in milli-units over its containers and restartable init containers. */
export function calculatePodRequests(pods: KObject[], resource: string, container = ''): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    const containers: KObject[] = [...(pod.spec?.containers ?? []), ...((pod.spec?.initContainers ?? []) as KObject[]).filter((c) => c?.restartPolicy === 'Always')];
    let sum = 0;
    for (const c of containers) {
      if (container && container !== c.name) continue;
      const v = milliValue(c.resources?.requests?.[resource]);
      if (v === undefined) throw new ReplicaCalculationError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata?.name}`);
      sum += v;
    }
    requests.set(String(pod.metadata?.name), sum);
  }
  return requests;
}

/** GetResourceUtilizationRatio: utilization is a whole percentage of the summed requests. */
export function resourceUtilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetUtilization: number): { usageRatio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, m] of metrics) {
    const request = requests.get(pod);
    // Metrics of pods without a request are extraneous (missing requests are errors elsewhere).
    if (request === undefined) continue;
    metricsTotal += m.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { usageRatio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** GetMetricUsageRatio: the average over pods against an average-value target. */
export function metricUsageRatio(metrics: PodMetricsInfo, targetUsage: number): { usageRatio: number; usage: number } {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { usageRatio: usage / targetUsage, usage };
}

export interface CalculatorOptions {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  delayOfInitialReadinessStatusMs: number;
  now: number;
}

export interface ResourceReplicas {
  replicas: number;
  /** Whole percent of request (utilization targets only). */
  utilization?: number;
  /** Average per pod in milli-units. */
  rawAverage: number;
}

function removeAll(metrics: PodMetricsInfo, names: Set<string>): void {
  for (const n of names) metrics.delete(n);
}

/**
 * The shared tail of GetResourceReplicas / calcPlainMetricReplicas: with missing pods or a
 * scale-up with unready pods, recompute conservatively and do nothing when the direction
 * flips or the new ratio is within tolerance.
 */
function conservative(
  currentReplicas: number,
  usageRatio: number,
  grouped: GroupedPods,
  metrics: PodMetricsInfo,
  tolerance: number,
  missingValue: (pod: string, scaleDown: boolean) => number,
  recompute: () => number,
): number {
  const scaleUpWithUnready = grouped.unreadyPods.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && grouped.missingPods.size === 0) {
    if (Math.abs(1.0 - usageRatio) <= tolerance) return currentReplicas;
    return Math.ceil(usageRatio * grouped.readyPodCount);
  }
  if (grouped.missingPods.size > 0) {
    if (usageRatio < 1.0) for (const p of grouped.missingPods) metrics.set(p, { timestamp: 0, windowMs: 0, value: missingValue(p, true) });
    else if (usageRatio > 1.0) for (const p of grouped.missingPods) metrics.set(p, { timestamp: 0, windowMs: 0, value: 0 });
  }
  if (scaleUpWithUnready) for (const p of grouped.unreadyPods) metrics.set(p, { timestamp: 0, windowMs: 0, value: 0 });
  const newUsageRatio = recompute();
  if (Math.abs(1.0 - newUsageRatio) <= tolerance || (usageRatio < 1.0 && newUsageRatio > 1.0) || (usageRatio > 1.0 && newUsageRatio < 1.0)) return currentReplicas;
  const newReplicas = Math.ceil(newUsageRatio * metrics.size);
  if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas)) return currentReplicas;
  return newReplicas;
}

/** GetResourceReplicas: the replica count for a utilization target (percent of request). */
export function resourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  resource: string,
  podMetrics: PodMetricsInfo,
  pods: KObject[],
  opts: CalculatorOptions,
  container = '',
): ResourceReplicas {
  if (pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const metrics: PodMetricsInfo = new Map(podMetrics);
  const grouped = groupPods(pods, metrics, resource, opts.cpuInitializationPeriodMs, opts.delayOfInitialReadinessStatusMs, opts.now);
  removeAll(metrics, grouped.ignoredPods);
  removeAll(metrics, grouped.unreadyPods);
  if (metrics.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = calculatePodRequests(pods, resource, container);
  const { usageRatio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
  const fallback = Math.max(100, targetUtilization);
  const replicas = conservative(
    currentReplicas,
    usageRatio,
    grouped,
    metrics,
    opts.tolerance,
    (p) => Math.trunc(((requests.get(p) ?? 0) * fallback) / 100),
    () => resourceUtilizationRatio(metrics, requests, targetUtilization).usageRatio,
  );
  return { replicas, utilization, rawAverage };
}

/** GetRawResourceReplicas: the replica count for an average-value target (milli-units per pod). */
export function rawResourceReplicas(
  currentReplicas: number,
  targetAverageMilli: number,
  resource: string,
  podMetrics: PodMetricsInfo,
  pods: KObject[],
  opts: CalculatorOptions,
): ResourceReplicas {
  if (pods.length === 0) throw new ReplicaCalculationError('no pods returned by selector while calculating replica count');
  const metrics: PodMetricsInfo = new Map(podMetrics);
  const grouped = groupPods(pods, metrics, resource, opts.cpuInitializationPeriodMs, opts.delayOfInitialReadinessStatusMs, opts.now);
  removeAll(metrics, grouped.ignoredPods);
  removeAll(metrics, grouped.unreadyPods);
  if (metrics.size === 0) throw new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const { usageRatio, usage } = metricUsageRatio(metrics, targetAverageMilli);
  const replicas = conservative(currentReplicas, usageRatio, grouped, metrics, opts.tolerance, () => targetAverageMilli, () => metricUsageRatio(metrics, targetAverageMilli).usageRatio);
  return { replicas, rawAverage: usage };
}
