/**
 * @module The node's own totals, as kubelet reads them from the root cgroup (cAdvisor's
 * "/" container): cumulative CPU from cpuacct.usage (cgroup v1) or /proc/stat, memory
 * usage and working set from the root memory cgroup or /proc/meminfo, and the boot time.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Synchronous on purpose: /proc and cgroup files are answered from memory, and async reads cost ten times more. */
async function read(path: string): Promise<string | undefined> {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function flatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k.replace(/:$/, ''), Number(v));
  }
  return out;
}

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux build kubelet runs on. */
const userHz = 100;

/** Busy CPU time of the whole machine from /proc/stat's first line (idle and iowait excluded), in ns. */
export function parseProcStatCpu(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy / userHz) * 1e9;
}

/** Working set from /proc/meminfo when the root memory cgroup is not readable: total − available. */
export function parseMeminfo(text: string): { usageBytes: number; workingSetBytes: number; availableBytes: number } | undefined {
  const m = flatKeyed(text);
  const total = m.get('MemTotal');
  const free = m.get('MemFree');
  const available = m.get('MemAvailable');
  if (total === undefined || free === undefined) return undefined;
  const usage = (total - free) * 1024;
  const workingSet = (total - (available ?? free)) * 1024;
  return { usageBytes: usage, workingSetBytes: workingSet, availableBytes: (available ?? free) * 1024 };
}

export interface HostUsage {
  cpuUsageCoreNanoSeconds: number;
  memoryUsageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
  availableBytes: number;
}

/** Reads the machine's usage now. */
export async function readHostUsage(root = '/sys/fs/cgroup'): Promise<HostUsage> {
  const acct = await read(`${root}/cpuacct/cpuacct.usage`);
  let cpu = acct !== undefined && /^\d+/.test(acct.trim()) ? Number(acct.trim()) : undefined;
  if (cpu === undefined) cpu = parseProcStatCpu((await read('/proc/stat')) ?? '') ?? 0;
  const meminfo = parseMeminfo((await read('/proc/meminfo')) ?? '');
  const total = totalmem();
  const usageText = await read(`${root}/memory/memory.usage_in_bytes`);
  if (usageText !== undefined && /^\d+/.test(usageText.trim())) {
    const stat = flatKeyed(await read(`${root}/memory/memory.stat`));
    const usage = Number(usageText.trim());
    const workingSet = Math.max(0, usage - (stat.get('total_inactive_file') ?? 0));
    return { cpuUsageCoreNanoSeconds: cpu, memoryUsageBytes: usage, workingSetBytes: workingSet, rssBytes: stat.get('total_rss') ?? 0, availableBytes: Math.max(0, total - workingSet) };
  }
  const mem = meminfo ?? { usageBytes: 0, workingSetBytes: 0, availableBytes: total };
  return { cpuUsageCoreNanoSeconds: cpu, memoryUsageBytes: mem.usageBytes, workingSetBytes: mem.workingSetBytes, rssBytes: 0, availableBytes: mem.availableBytes };
}

/** The machine's boot time (ms since the epoch), from /proc/stat's btime. */
export function bootTime(): number {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    if (m) return Number(m[1]) * 1000;
  } catch {
    /* not Linux */
  }
  return Date.now() - Math.round(process.uptime() * 1000);
}

export function machineInfo(): { cpuCores: number; memoryBytes: number } {
  return { cpuCores: cpus().length || 1, memoryBytes: totalmem() };
}
