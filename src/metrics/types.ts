/**
 * @module The node stats one kubelet collects in one pass (the data behind kubelet's
 * Summary API, /metrics/resource and cAdvisor's /metrics/cadvisor): cumulative CPU time,
 * the CPU rate, memory usage and working set, per container, per pod and for the node.
 */

/** CPU and memory of a container, a pod or the node at one instant. */
export interface UsageSample {
  /** Cumulative CPU time in nanoseconds since the container (or node) started. */
  cpuUsageCoreNanoSeconds: number;
  /** CPU rate in nano-cores over the collector's last interval (cAdvisor's housekeeping). */
  usageNanoCores: number;
  /** Memory in use, page cache included (memory.usage_in_bytes / memory.current). */
  memoryUsageBytes: number;
  /** usage − inactive_file: what the OOM killer and eviction look at (cAdvisor's working set). */
  workingSetBytes: number;
  rssBytes: number;
}

export interface ContainerSample extends UsageSample {
  name: string;
  /** Runtime container id without the scheme. */
  id: string;
  image: string;
  /** Milliseconds since the epoch. */
  startTime: number;
  /** spec.resources.limits.memory in bytes; 0 when unlimited (cAdvisor reports 0). */
  memoryLimitBytes: number;
  /** spec.resources.limits.cpu as CFS quota in cores; 0 when unlimited. */
  cpuLimitCores: number;
  /** spec.resources.requests.cpu as cgroup shares (cAdvisor's container_spec_cpu_shares). */
  cpuShares: number;
}

export interface PodSample {
  namespace: string;
  name: string;
  uid: string;
  startTime: number;
  /** Running containers only, as the Summary API lists them. */
  containers: ContainerSample[];
}

export interface NodeSample extends UsageSample {
  nodeName: string;
  startTime: number;
  /** Memory the node has left (capacity − working set). */
  availableBytes: number;
}

/** One collection pass of a kubelet. */
export interface NodeStats {
  /** Milliseconds since the epoch when the pass ran. */
  timestamp: number;
  node: NodeSample;
  pods: PodSample[];
}

/** The pod's usage: the sum of its containers' (kubelet reads the pod cgroup, which is that sum). */
export function podUsage(pod: PodSample): UsageSample {
  const total: UsageSample = { cpuUsageCoreNanoSeconds: 0, usageNanoCores: 0, memoryUsageBytes: 0, workingSetBytes: 0, rssBytes: 0 };
  for (const c of pod.containers) {
    total.cpuUsageCoreNanoSeconds += c.cpuUsageCoreNanoSeconds;
    total.usageNanoCores += c.usageNanoCores;
    total.memoryUsageBytes += c.memoryUsageBytes;
    total.workingSetBytes += c.workingSetBytes;
    total.rssBytes += c.rssBytes;
  }
  return total;
}
