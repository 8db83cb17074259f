/**
 * @module cAdvisor's container metrics as the kubelet serves them at /metrics/cadvisor:
 * container_cpu_usage_seconds_total, container_memory_working_set_bytes,
 * container_memory_usage_bytes, container_spec_memory_limit_bytes … with cAdvisor's
 * labels (container, id, image, name, namespace, pod) for each container, each pod cgroup
 * (container="") and the root cgroup (id="/"), plus machine_* facts of the node.
 */
import { renderText, type MetricFamily } from './exposition.js';
import { podUsage, type NodeStats, type UsageSample } from './types.js';

export interface MachineInfo {
  cpuCores: number;
  memoryBytes: number;
}

/** The cgroup path cAdvisor names a pod's cgroup by (kubelet's cgroupfs layout). */
export function podCgroupId(uid: string): string {
  return `/kubepods/pod${uid}`;
}

/** The /metrics/cadvisor text of one collection pass. */
export function renderCadvisorMetrics(stats: NodeStats, machine: MachineInfo): string {
  const ts = stats.timestamp;
  const fam = (name: string, help: string, type: 'counter' | 'gauge'): MetricFamily => ({ name, help, type, samples: [] });
  const cpu = fam('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed in seconds.', 'counter');
  const usage = fam('container_memory_usage_bytes', 'Current memory usage in bytes, including all memory regardless of when it was accessed', 'gauge');
  const workingSet = fam('container_memory_working_set_bytes', 'Current working set in bytes.', 'gauge');
  const rss = fam('container_memory_rss', 'Size of RSS in bytes.', 'gauge');
  const limit = fam('container_spec_memory_limit_bytes', 'Memory limit for the container.', 'gauge');
  const shares = fam('container_spec_cpu_shares', 'CPU share of the container.', 'gauge');
  const quota = fam('container_spec_cpu_quota', 'CPU quota of the container.', 'gauge');
  const period = fam('container_spec_cpu_period', 'CPU period of the container.', 'gauge');
  const start = fam('container_start_time_seconds', 'Start time of the container since unix epoch in seconds.', 'gauge');
  const lastSeen = fam('container_last_seen', 'Last time a container was seen by the exporter', 'gauge');
  const cores = fam('machine_cpu_cores', 'Number of logical CPU cores.', 'gauge');
  const memory = fam('machine_memory_bytes', 'Amount of memory installed on the machine.', 'gauge');

  const series = (labels: Record<string, string>, u: UsageSample, startMs: number, spec?: { limit: number; shares: number; quotaCores: number }) => {
    cpu.samples.push({ labels, value: u.cpuUsageCoreNanoSeconds / 1e9, timestamp: ts });
    usage.samples.push({ labels, value: u.memoryUsageBytes, timestamp: ts });
    workingSet.samples.push({ labels, value: u.workingSetBytes, timestamp: ts });
    rss.samples.push({ labels, value: u.rssBytes, timestamp: ts });
    start.samples.push({ labels, value: startMs / 1000, timestamp: ts });
    lastSeen.samples.push({ labels, value: Math.floor(ts / 1000), timestamp: ts });
    if (spec) {
      limit.samples.push({ labels, value: spec.limit, timestamp: ts });
      shares.samples.push({ labels, value: spec.shares, timestamp: ts });
      if (spec.quotaCores > 0) {
        quota.samples.push({ labels, value: Math.round(spec.quotaCores * 100_000), timestamp: ts });
        period.samples.push({ labels, value: 100_000, timestamp: ts });
      }
    }
  };

  series({ container: '', id: '/', image: '', name: '', namespace: '', pod: '' }, stats.node, stats.node.startTime, { limit: 0, shares: 1024, quotaCores: 0 });
  for (const pod of stats.pods) {
    const podId = podCgroupId(pod.uid);
    if (pod.containers.length) series({ container: '', id: podId, image: '', name: '', namespace: pod.namespace, pod: pod.name }, podUsage(pod), pod.startTime);
    for (const c of pod.containers) {
      const labels = { container: c.name, id: `${podId}/${c.id}`, image: c.image, name: c.id, namespace: pod.namespace, pod: pod.name };
      series(labels, c, c.startTime, { limit: c.memoryLimitBytes, shares: c.cpuShares, quotaCores: c.cpuLimitCores });
    }
  }
  cores.samples.push({ value: machine.cpuCores });
  memory.samples.push({ value: machine.memoryBytes });
  return renderText([cpu, lastSeen, rss, usage, workingSet, period, quota, shares, limit, start, cores, memory]);
}
