/**
 * @module metrics.k8s.io/v1beta1 as metrics-server computes it: scrapes of kubelets'
 * /metrics/resource kept per node (the last two), CPU as a rate between two cumulative
 * readings, memory as the latest working set; NodeMetrics and PodMetrics objects with the
 * scrape's timestamp, the window between the readings, and quantities formatted as
 * metrics-server formats them ("12345678n" / "12m" CPU, "1234Ki" memory).
 */
import { canonicalQuantity } from '../api/quantity.js';
import type { ResourcePoint, ResourceScrape } from './resource.js';

export const metricsGroup = 'metrics.k8s.io';
export const metricsVersion = 'v1beta1';
export const metricsApiVersion = `${metricsGroup}/${metricsVersion}`;

/** resource.NewScaledQuantity(nanoCores, -9) in canonical form. */
export function formatCpu(nanoCores: number): string {
  return canonicalQuantity(`${Math.max(0, Math.round(nanoCores))}n`);
}

/** resource.NewQuantity(bytes, BinarySI): Ki/Mi/Gi when whole, else plain bytes. */
export function formatMemory(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  return b % 1024 === 0 ? canonicalQuantity(`${b / 1024}Ki`) : String(b);
}

/** Go's time.Duration.String() for whole milliseconds ("15.013s", "1m0.5s", "0s", "500ms"). */
export function goDuration(ms: number): string {
  ms = Math.round(ms);
  if (ms === 0) return '0s';
  const neg = ms < 0;
  ms = Math.abs(ms);
  let out: string;
  if (ms < 1000) out = `${ms}ms`;
  else {
    const h = Math.floor(ms / 3_600_000);
    const m = Math.floor((ms % 3_600_000) / 60_000);
    const s = (ms % 60_000) / 1000;
    const sec = `${Number(s.toFixed(3))}s`;
    out = h ? `${h}h${m}m${sec}` : m ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}

/** Usage over a window: what one NodeMetrics or one PodMetrics container reports. */
export interface WindowedUsage {
  /** The newer reading (ms since the epoch). */
  timestamp: number;
  windowMs: number;
  nanoCores: number;
  memoryBytes: number;
}

/** The CPU rate between two readings, or undefined when they do not make one (restart, reset, same instant). */
export function rateBetween(prev: ResourcePoint | undefined, last: ResourcePoint): WindowedUsage | undefined {
  if (!prev) return undefined;
  const windowMs = last.timestamp - prev.timestamp;
  if (windowMs <= 0) return undefined;
  if (last.cpuSeconds < prev.cpuSeconds) return undefined;
  if (prev.startTime !== undefined && last.startTime !== undefined && prev.startTime !== last.startTime && prev.cpuSeconds !== 0) return undefined;
  return { timestamp: last.timestamp, windowMs, nanoCores: ((last.cpuSeconds - prev.cpuSeconds) * 1e9 * 1000) / windowMs, memoryBytes: last.memoryBytes };
}

interface Pair {
  prev?: ResourcePoint;
  last: ResourcePoint;
}

interface NodeEntry {
  node?: Pair;
  containers: Map<string, Pair & { namespace: string; pod: string; container: string }>;
  /** When the previous scrape of this node was taken (fresh containers start their window here). */
  prevScrapeTime?: number;
  lastScrapeTime: number;
}

/** metrics-server's storage: per node, the last two readings of the node and of every container. */
export class ResourceMetricsStorage {
  private readonly nodes = new Map<string, NodeEntry>();
  /** namespace/pod → node, from the latest scrapes. */
  private readonly podNode = new Map<string, string>();

  /** Records a scrape of a node taken at scrapeTime. */
  store(nodeName: string, scrape: ResourceScrape, scrapeTime: number): void {
    const old = this.nodes.get(nodeName);
    const entry: NodeEntry = { containers: new Map(), prevScrapeTime: old?.lastScrapeTime, lastScrapeTime: scrapeTime };
    if (scrape.node) entry.node = advance(old?.node, scrape.node);
    for (const [key, point] of scrape.containers) {
      const before = old?.containers.get(key);
      let pair = advance(before, point);
      if (!pair.prev && point.startTime !== undefined && entry.prevScrapeTime !== undefined && point.startTime > entry.prevScrapeTime && point.startTime < point.timestamp) {
        // Started since the last scrape: its whole life is the window (metrics-server does the same).
        pair = { prev: { timestamp: point.startTime, cpuSeconds: 0, memoryBytes: 0, startTime: point.startTime }, last: point };
      }
      entry.containers.set(key, { ...pair, namespace: point.namespace, pod: point.pod, container: point.container });
    }
    if (old) for (const c of old.containers.values()) if (this.podNode.get(`${c.namespace}/${c.pod}`) === nodeName) this.podNode.delete(`${c.namespace}/${c.pod}`);
    for (const c of entry.containers.values()) this.podNode.set(`${c.namespace}/${c.pod}`, nodeName);
    this.nodes.set(nodeName, entry);
  }

  /** Forgets nodes that are no longer in the cluster. */
  retainNodes(names: Set<string>): void {
    for (const [name, entry] of this.nodes) {
      if (names.has(name)) continue;
      for (const c of entry.containers.values()) if (this.podNode.get(`${c.namespace}/${c.pod}`) === name) this.podNode.delete(`${c.namespace}/${c.pod}`);
      this.nodes.delete(name);
    }
  }

  nodeMetrics(nodeName: string): WindowedUsage | undefined {
    const pair = this.nodes.get(nodeName)?.node;
    return pair ? rateBetween(pair.prev, pair.last) : undefined;
  }

  /** A pod's containers, only when every one of them has a rate (metrics-server drops partial pods). */
  podMetrics(namespace: string, pod: string): { timestamp: number; windowMs: number; containers: Array<{ name: string } & WindowedUsage> } | undefined {
    const nodeName = this.podNode.get(`${namespace}/${pod}`);
    const entry = nodeName ? this.nodes.get(nodeName) : undefined;
    if (!entry) return undefined;
    const containers: Array<{ name: string } & WindowedUsage> = [];
    for (const c of entry.containers.values()) {
      if (c.namespace !== namespace || c.pod !== pod) continue;
      const usage = rateBetween(c.prev, c.last);
      if (!usage) return undefined;
      containers.push({ name: c.container, ...usage });
    }
    if (containers.length === 0) return undefined;
    const newest = containers.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
    return { timestamp: newest.timestamp, windowMs: newest.windowMs, containers };
  }

  /** Every pod with metrics: [namespace, pod]. */
  pods(): Array<[string, string]> {
    return [...this.podNode.keys()].map((k) => {
      const i = k.indexOf('/');
      return [k.slice(0, i), k.slice(i + 1)];
    });
  }
}

function advance<T extends ResourcePoint>(old: { prev?: ResourcePoint; last: ResourcePoint } | undefined, point: T): { prev?: ResourcePoint; last: T } {
  if (!old) return { last: point };
  // The same reading again (the kubelet had not collected anew): keep the older pair.
  if (point.timestamp <= old.last.timestamp) return { prev: old.prev, last: point };
  const restarted = point.startTime !== undefined && old.last.startTime !== undefined && point.startTime !== old.last.startTime;
  if (restarted || point.cpuSeconds < old.last.cpuSeconds) return { last: point };
  return { prev: old.last, last: point };
}

/** A NodeMetrics object. */
export function nodeMetricsObject(name: string, labels: Record<string, string> | undefined, usage: WindowedUsage): Record<string, unknown> {
  return {
    kind: 'NodeMetrics',
    apiVersion: metricsApiVersion,
    metadata: { name, creationTimestamp: new Date(Math.floor(usage.timestamp / 1000) * 1000).toISOString().replace('.000Z', 'Z'), ...(labels ? { labels } : {}) },
    timestamp: rfc3339(usage.timestamp),
    window: goDuration(usage.windowMs),
    usage: { cpu: formatCpu(usage.nanoCores), memory: formatMemory(usage.memoryBytes) },
  };
}

/** A PodMetrics object. */
export function podMetricsObject(
  namespace: string,
  name: string,
  labels: Record<string, string> | undefined,
  m: { timestamp: number; windowMs: number; containers: Array<{ name: string } & WindowedUsage> },
): Record<string, unknown> {
  return {
    kind: 'PodMetrics',
    apiVersion: metricsApiVersion,
    metadata: { name, namespace, creationTimestamp: new Date(Math.floor(m.timestamp / 1000) * 1000).toISOString().replace('.000Z', 'Z'), ...(labels ? { labels } : {}) },
    timestamp: rfc3339(m.timestamp),
    window: goDuration(m.windowMs),
    containers: m.containers.map((c) => ({ name: c.name, usage: { cpu: formatCpu(c.nanoCores), memory: formatMemory(c.memoryBytes) } })),
  };
}

/** metav1.Time: RFC 3339 in whole seconds. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
