/**
 * @module kubelet's Summary API (stats/v1alpha1, GET /stats/summary): the node's and each
 * pod's and container's CPU and memory, in the JSON shape kubelet serves.
 */
import { podUsage, type NodeStats, type UsageSample } from './types.js';

const time = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function cpuStats(u: UsageSample, ts: number) {
  return { time: time(ts), usageNanoCores: Math.round(u.usageNanoCores), usageCoreNanoSeconds: Math.round(u.cpuUsageCoreNanoSeconds) };
}

function memoryStats(u: UsageSample, ts: number, availableBytes?: number) {
  return {
    time: time(ts),
    ...(availableBytes !== undefined ? { availableBytes } : {}),
    usageBytes: u.memoryUsageBytes,
    workingSetBytes: u.workingSetBytes,
    rssBytes: u.rssBytes,
    pageFaults: 0,
    majorPageFaults: 0,
  };
}

/** The Summary document of one collection pass. */
export function summaryOf(stats: NodeStats): Record<string, unknown> {
  const ts = stats.timestamp;
  return {
    node: {
      nodeName: stats.node.nodeName,
      startTime: time(stats.node.startTime),
      cpu: cpuStats(stats.node, ts),
      memory: memoryStats(stats.node, ts, stats.node.availableBytes),
    },
    pods: stats.pods.map((p) => ({
      podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
      startTime: time(p.startTime),
      containers: p.containers.map((c) => ({
        name: c.name,
        startTime: time(c.startTime),
        cpu: cpuStats(c, ts),
        memory: memoryStats(c, ts, c.memoryLimitBytes > 0 ? Math.max(0, c.memoryLimitBytes - c.workingSetBytes) : undefined),
      })),
      cpu: cpuStats(podUsage(p), ts),
      memory: memoryStats(podUsage(p), ts),
    })),
  };
}
