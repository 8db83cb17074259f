/**
 * @module The kubelet's stats provider: one collection pass over the pods this agent runs —
 * every running container's cumulative CPU, CPU rate, memory usage and working set (from
 * its cgroup through the runtime, or simulated on hollow nodes), its spec's limits, and
 * the node's totals — shared by /stats/summary, /metrics/resource and /metrics/cadvisor.
 * Passes closer together than a second reuse the last one, as cAdvisor's housekeeping does.
 */
import type { KObject } from '../../api/types.js';
import { tryParseQuantity } from '../../api/quantity.js';
import { KubeletMetrics, type ContainerSample, type KubeletState, type NodeStats, type PodSample, type UsageSample } from '../../metrics/index.js';
import type { ContainerStatus, PodRuntime } from '../runtime.js';
import { bootTime, readHostUsage, type HostUsage } from './host.js';

/** Per-container CPU a hollow container reports (a quantity, e.g. "250m"); default a few millicores. */
export const hollowCpuUsageAnnotation = 'hollow.skiff.dev/cpu-usage';
/** Per-container memory working set a hollow container reports (e.g. "64Mi"); default a few Mi. */
export const hollowMemoryUsageAnnotation = 'hollow.skiff.dev/memory-usage';

/** What a stats pass needs of a pod worker. */
export interface StatsPodWorker {
  pod: KObject;
  sandboxId?: string;
  uid: string;
}

/** The usage of one container as the process runtime reads it from cgroups. */
interface RuntimeContainerStats {
  cpu: { usageCoreNanoSeconds: number; usageNanoCores: number };
  memory: { workingSetBytes: number; usageBytes: number; rssBytes: number };
}

type StatsRuntime = PodRuntime & { stats?(containerId: string): Promise<RuntimeContainerStats | undefined> };

export interface NodeStatsCollectorOptions {
  nodeName: string;
  workers: () => StatsPodWorker[];
  runtime: StatsRuntime;
  /** host: container stats from the runtime, node totals from the machine; simulated: hollow. */
  mode: 'host' | 'simulated';
  machine: { cpuCores: number; memoryBytes: number };
  now?: () => number;
  /** Reuse a pass this recent (default 1000 ms). */
  maxAgeMs?: number;
  /** Node totals (tests); default reads the machine. */
  readHost?: () => Promise<HostUsage>;
}

const hashOf = (s: string): number => {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
};

/** Parsed quantities by text: every pass reads the same few requests, limits and annotations. */
const parsed = new Map<string, number | undefined>();

function quantityValue(v: unknown, scale = 0): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const key = `${v}|${scale}`;
  if (parsed.has(key)) return parsed.get(key);
  const q = tryParseQuantity(v);
  const value = q ? q.scaledValue(scale) : undefined;
  if (parsed.size > 4096) parsed.clear();
  parsed.set(key, value);
  return value;
}

/** kubelet's MilliCPUToShares for a request (2 when none). */
function sharesOf(milli: number | undefined): number {
  if (!milli || milli <= 0) return 2;
  return Math.min(262_144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}

/** Simulated hollow usage: CPU from the annotation (or a small per-container constant), integrated over time. */
class SimulatedUsage {
  private readonly state = new Map<string, { at: number; cpuNs: number }>();

  sample(pod: KObject, c: ContainerStatus, now: number): UsageSample {
    const ann = pod.metadata?.annotations ?? {};
    const h = hashOf(`${pod.metadata?.uid}/${c.name}`);
    const milli = quantityValue(ann[hollowCpuUsageAnnotation], -3) ?? 1 + (h % 4);
    const memory = quantityValue(ann[hollowMemoryUsageAnnotation]) ?? (8 + (h % 24)) * 1024 * 1024;
    const started = c.startedAt ?? now;
    const prev = this.state.get(c.id) ?? { at: started, cpuNs: 0 };
    const cpuNs = prev.cpuNs + Math.max(0, now - prev.at) * 1e6 * (milli / 1000);
    this.state.set(c.id, { at: now, cpuNs });
    return { cpuUsageCoreNanoSeconds: cpuNs, usageNanoCores: milli * 1e6, memoryUsageBytes: memory + 4 * 1024 * 1024, workingSetBytes: memory, rssBytes: memory };
  }

  retain(ids: Set<string>): void {
    for (const id of this.state.keys()) if (!ids.has(id)) this.state.delete(id);
  }
}

function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** The container spec of a pod by name (regular, init or ephemeral). */
function specOf(pod: KObject, name: string): KObject | undefined {
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const found = (pod.spec?.[field] as KObject[] | undefined)?.find((c) => c?.name === name);
    if (found) return found;
  }
  return undefined;
}

export class NodeStatsCollector {
  readonly kubeletMetrics = new KubeletMetrics();
  private readonly simulated = new SimulatedUsage();
  private last?: { at: number; stats: Promise<NodeStats> };
  private nodeCpu?: { at: number; cpuNs: number; nanoCores: number };
  private simulatedNodeCpuNs = 0;
  private readonly startedAt: number;
  private readonly now: () => number;

  constructor(private readonly opts: NodeStatsCollectorOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = opts.mode === 'host' ? bootTime() : this.now();
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  get machine(): { cpuCores: number; memoryBytes: number } {
    return this.opts.machine;
  }

  /** The latest pass, collecting a new one when the last is older than maxAgeMs. */
  collect(): Promise<NodeStats> {
    const now = this.now();
    if (this.last && now - this.last.at < (this.opts.maxAgeMs ?? 1000)) return this.last.stats;
    const stats = this.collectNow(now);
    this.last = { at: now, stats };
    stats.catch(() => {
      if (this.last?.stats === stats) this.last = undefined;
    });
    return stats;
  }

  private async containersOf(w: StatsPodWorker): Promise<ContainerStatus[]> {
    if (!w.sandboxId) return [];
    try {
      return await this.opts.runtime.listContainers({ sandboxId: w.sandboxId });
    } catch {
      return [];
    }
  }

  private async collectNow(now: number): Promise<NodeStats> {
    const pods: PodSample[] = [];
    const seenContainers = new Set<string>();
    for (const w of this.opts.workers()) {
      const pod = w.pod;
      const running = (await this.containersOf(w)).filter((c) => c.state === 'CONTAINER_RUNNING');
      const containers: ContainerSample[] = [];
      for (const c of running) {
        seenContainers.add(c.id);
        let usage: UsageSample | undefined;
        if (this.opts.mode === 'simulated') usage = this.simulated.sample(pod, c, now);
        else {
          const st = await this.opts.runtime.stats?.(c.id).catch(() => undefined);
          if (st)
            usage = {
              cpuUsageCoreNanoSeconds: st.cpu.usageCoreNanoSeconds,
              usageNanoCores: st.cpu.usageNanoCores,
              memoryUsageBytes: st.memory.usageBytes,
              workingSetBytes: st.memory.workingSetBytes,
              rssBytes: st.memory.rssBytes,
            };
        }
        // kubelet leaves out containers it has no cgroup stats for.
        if (!usage) continue;
        const spec = specOf(pod, c.name);
        const limits = spec?.resources?.limits ?? {};
        const requests = spec?.resources?.requests ?? {};
        containers.push({
          ...usage,
          name: c.name,
          id: c.id,
          image: c.image,
          startTime: c.startedAt ?? c.createdAt,
          memoryLimitBytes: quantityValue(limits.memory) ?? 0,
          cpuLimitCores: (quantityValue(limits.cpu, -3) ?? 0) / 1000,
          cpuShares: sharesOf(quantityValue(requests.cpu ?? limits.cpu, -3)),
        });
      }
      const startTime = parseTime(pod.status?.startTime) ?? Math.min(now, ...containers.map((c) => c.startTime));
      pods.push({ namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: w.uid, startTime, containers });
      this.observePodStart(pod);
    }
    if (this.opts.mode === 'simulated') this.simulated.retain(seenContainers);
    this.kubeletMetrics.retain(new Set(pods.map((p) => p.uid)));
    return { timestamp: now, node: await this.nodeSample(now, pods), pods };
  }

  /** kubelet_pod_start_duration_seconds: from the pod's start (kubelet first seeing it) to its last container running. */
  private observePodStart(pod: KObject): void {
    const statuses = (pod.status?.containerStatuses ?? []) as KObject[];
    const specCount = (pod.spec?.containers ?? []).length;
    if (!statuses.length || statuses.length < specCount || !statuses.every((s) => s.state?.running)) return;
    const start = parseTime(pod.status?.startTime);
    const running = Math.max(...statuses.map((s) => parseTime(s.state.running.startedAt) ?? 0));
    if (start === undefined || !running) return;
    this.kubeletMetrics.observePodStart(pod.metadata?.uid ?? '', (running - start) / 1000);
  }

  private async nodeSample(now: number, pods: PodSample[]): Promise<NodeStats['node']> {
    let usage: HostUsage;
    if (this.opts.mode === 'host') usage = await (this.opts.readHost ?? readHostUsage)();
    else {
      // A hollow node is its pods plus a small system share (kubelet, runtime).
      const baseMilli = 50;
      const baseMemory = 256 * 1024 * 1024;
      let podMilli = 0;
      let podMemory = 0;
      for (const p of pods)
        for (const c of p.containers) {
          podMilli += c.usageNanoCores / 1e6;
          podMemory += c.workingSetBytes;
        }
      const at = this.nodeCpu?.at ?? this.startedAt;
      this.simulatedNodeCpuNs += Math.max(0, now - at) * 1e6 * ((baseMilli + podMilli) / 1000);
      const workingSet = baseMemory + podMemory;
      usage = {
        cpuUsageCoreNanoSeconds: this.simulatedNodeCpuNs,
        memoryUsageBytes: workingSet + 64 * 1024 * 1024,
        workingSetBytes: workingSet,
        rssBytes: workingSet,
        availableBytes: Math.max(0, this.opts.machine.memoryBytes - workingSet),
      };
    }
    const prev = this.nodeCpu;
    let nanoCores = prev?.nanoCores ?? 0;
    if (!prev || now - prev.at >= 1000) {
      if (prev && now > prev.at) nanoCores = Math.max(0, ((usage.cpuUsageCoreNanoSeconds - prev.cpuNs) * 1000) / (now - prev.at));
      this.nodeCpu = { at: now, cpuNs: usage.cpuUsageCoreNanoSeconds, nanoCores };
    }
    return { ...usage, usageNanoCores: nanoCores, nodeName: this.opts.nodeName, startTime: this.startedAt };
  }

  /** The gauges of kubelet_* right now. */
  async kubeletState(): Promise<KubeletState> {
    const containers: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
    let runningPods = 0;
    for (const w of this.opts.workers()) {
      const list = await this.containersOf(w);
      if (w.sandboxId) runningPods++;
      for (const c of list) {
        const s = c.state.replace(/^CONTAINER_/, '').toLowerCase();
        containers[s] = (containers[s] ?? 0) + 1;
      }
    }
    return { nodeName: this.opts.nodeName, runningPods, containers };
  }
}
