/**
 * @module kubelet's resource metrics endpoint (/metrics/resource, the [STABLE] names
 * metrics-server scrapes): cumulative CPU seconds and memory working set of the node, its
 * pods and containers, each sample stamped with the time it was collected — rendered on
 * the kubelet side and read back on the API server side.
 */
import { parseText, renderText, type MetricFamily } from './exposition.js';
import { podUsage, type NodeStats } from './types.js';

const cpuSeconds = (ns: number) => ns / 1e9;

/** The /metrics/resource text of one collection pass. */
export function renderResourceMetrics(stats: NodeStats): string {
  const ts = stats.timestamp;
  const fam = (name: string, help: string, type: 'counter' | 'gauge'): MetricFamily => ({ name, help: `[STABLE] ${help}`, type, samples: [] });
  const containerCpu = fam('container_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the container in core-seconds', 'counter');
  const containerMem = fam('container_memory_working_set_bytes', 'Current working set of the container in bytes', 'gauge');
  const containerStart = fam('container_start_time_seconds', 'Start time of the container since unix epoch in seconds', 'gauge');
  const nodeCpu = fam('node_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the node in core-seconds', 'counter');
  const nodeMem = fam('node_memory_working_set_bytes', 'Current working set of the node in bytes', 'gauge');
  const podCpu = fam('pod_cpu_usage_seconds_total', 'Cumulative cpu time consumed by the pod in core-seconds', 'counter');
  const podMem = fam('pod_memory_working_set_bytes', 'Current working set of the pod in bytes', 'gauge');
  const scrapeError = fam('resource_scrape_error', '1 if there was an error while getting container metrics, 0 otherwise', 'gauge');
  for (const pod of stats.pods) {
    for (const c of pod.containers) {
      const labels = { container: c.name, namespace: pod.namespace, pod: pod.name };
      containerCpu.samples.push({ labels, value: cpuSeconds(c.cpuUsageCoreNanoSeconds), timestamp: ts });
      containerMem.samples.push({ labels, value: c.workingSetBytes, timestamp: ts });
      containerStart.samples.push({ labels, value: c.startTime / 1000, timestamp: ts });
    }
    if (pod.containers.length === 0) continue;
    const usage = podUsage(pod);
    const labels = { namespace: pod.namespace, pod: pod.name };
    podCpu.samples.push({ labels, value: cpuSeconds(usage.cpuUsageCoreNanoSeconds), timestamp: ts });
    podMem.samples.push({ labels, value: usage.workingSetBytes, timestamp: ts });
  }
  nodeCpu.samples.push({ value: cpuSeconds(stats.node.cpuUsageCoreNanoSeconds), timestamp: ts });
  nodeMem.samples.push({ value: stats.node.workingSetBytes, timestamp: ts });
  scrapeError.samples.push({ value: 0 });
  return renderText([containerCpu, containerMem, containerStart, nodeCpu, nodeMem, podCpu, podMem, scrapeError]);
}

/** One cumulative CPU reading and the memory working set at the same instant. */
export interface ResourcePoint {
  /** Milliseconds since the epoch. */
  timestamp: number;
  cpuSeconds: number;
  memoryBytes: number;
  /** Container start (ms since the epoch); a different start means a restarted container. */
  startTime?: number;
}

/** What metrics-server keeps of one scrape of one node. */
export interface ResourceScrape {
  node?: ResourcePoint;
  /** Keyed "namespace/pod/container". */
  containers: Map<string, ResourcePoint & { namespace: string; pod: string; container: string }>;
}

/** Reads a kubelet's /metrics/resource answer (samples without a timestamp get `fallbackTs`). */
export function parseResourceMetrics(text: string, fallbackTs: number): ResourceScrape {
  const out: ResourceScrape = { containers: new Map() };
  const nodeParts: Partial<ResourcePoint> = {};
  for (const s of parseText(text)) {
    const ts = s.timestamp ?? fallbackTs;
    if (s.name === 'node_cpu_usage_seconds_total') Object.assign(nodeParts, { cpuSeconds: s.value, timestamp: ts });
    else if (s.name === 'node_memory_working_set_bytes') nodeParts.memoryBytes = s.value;
    else if (s.name.startsWith('container_')) {
      const { namespace, pod, container } = s.labels;
      if (!namespace || !pod || !container) continue;
      const key = `${namespace}/${pod}/${container}`;
      let point = out.containers.get(key);
      if (!point) out.containers.set(key, (point = { namespace, pod, container, timestamp: ts, cpuSeconds: NaN, memoryBytes: NaN }));
      if (s.name === 'container_cpu_usage_seconds_total') {
        point.cpuSeconds = s.value;
        point.timestamp = ts;
      } else if (s.name === 'container_memory_working_set_bytes') point.memoryBytes = s.value;
      else if (s.name === 'container_start_time_seconds') point.startTime = Math.round(s.value * 1000);
    }
  }
  if (nodeParts.cpuSeconds !== undefined && nodeParts.memoryBytes !== undefined) out.node = nodeParts as ResourcePoint;
  for (const [k, p] of out.containers) if (Number.isNaN(p.cpuSeconds) || Number.isNaN(p.memoryBytes)) out.containers.delete(k);
  return out;
}
