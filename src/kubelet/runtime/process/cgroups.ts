/**
 * @module Container cgroups for the process runtime: one cgroup per container under
 * `<parent>/pod<uid>/`, on cgroup v1 (memory, cpu, cpuacct, pids; plus the unified
 * hierarchy of a hybrid host for tracking and cgroup.kill) or v2. Limits follow
 * kubelet's conversions (cpu request → shares, cpu limit → CFS quota over a 100 ms
 * period, memory limit → limit_in_bytes / memory.max); stats follow cAdvisor's
 * (working set = usage − inactive file).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type CgroupMode = 'v1' | 'v2' | 'none';

/** kubelet's CFS period (quotaPeriod = 100 ms). */
export const cfsPeriodUs = 100_000;
const minShares = 2;
const maxShares = 262_144;
const minQuotaUs = 1_000;

export interface CgroupLimits {
  memoryLimitBytes?: number;
  cpuShares?: number;
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  pidsMax?: number;
}

/** kubelet's MilliCPUToShares: 1 CPU = 1024 shares, at least 2. */
export function milliCPUToShares(milli: number): number {
  if (milli <= 0) return minShares;
  return Math.min(maxShares, Math.max(minShares, Math.floor((milli * 1024) / 1000)));
}

/** kubelet's MilliCPUToQuota: the share of the period the limit allows, at least 1 ms. */
export function milliCPUToQuota(milli: number, periodUs = cfsPeriodUs): number {
  if (milli <= 0) return 0;
  return Math.max(minQuotaUs, Math.floor((milli * periodUs) / 1000));
}

/** The cgroup v2 cpu.weight for v1 shares (the conversion runc and kubelet use). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

export interface CgroupStats {
  /** Cumulative CPU time of the cgroup in nanoseconds. */
  cpuUsageNanoSeconds: number;
  memoryUsageBytes: number;
  workingSetBytes: number;
  rssBytes: number;
}

const v1Controllers = ['memory', 'cpu', 'cpuacct', 'pids'] as const;
type V1Controller = (typeof v1Controllers)[number];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * A cgroup knob read synchronously: the kernel answers from memory, so the thread-pool round
 * trips of an async read (open, stat, read, close) cost ten times the read itself — and stats
 * read three knobs per container every scrape.
 */
function readKnobText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, oom_control). */
export function parseFlatKeyed(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

/** Writes a cgroup file, ignoring controllers the kernel lacks (ENOENT) when asked to. */
async function writeKnob(path: string, value: string, optional = false): Promise<void> {
  try {
    await writeFile(path, value);
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
}

export class CgroupManager {
  private constructor(
    readonly mode: CgroupMode,
    readonly root: string,
    readonly parent: string,
    /** v1 only: the controllers mounted on this host (memory, cpu, cpuacct, pids). */
    private readonly controllers: V1Controller[],
    /** The v2 hierarchy used for tracking: the whole tree on v2, the unified mount on hybrid v1. */
    private readonly unified?: string,
  ) {}

  /**
   * Looks at the host: pure v2 when `<root>/cgroup.controllers` exists, v1 (hybrid or
   * legacy) when the memory controller is mounted; 'none' when not root or neither.
   */
  static detect(opts: { root?: string; parent?: string; enabled?: boolean } = {}): CgroupManager {
    const root = opts.root ?? '/sys/fs/cgroup';
    const parent = opts.parent ?? 'skiff';
    const none = new CgroupManager('none', root, parent, []);
    if (opts.enabled === false || process.platform !== 'linux' || process.getuid?.() !== 0) return none;
    if (existsSync(join(root, 'cgroup.controllers'))) return new CgroupManager('v2', root, parent, [], root);
    if (!existsSync(join(root, 'memory', 'memory.limit_in_bytes'))) return none;
    const controllers = v1Controllers.filter((c) => existsSync(join(root, c, 'cgroup.procs')));
    const unified = existsSync(join(root, 'unified', 'cgroup.procs')) ? join(root, 'unified') : undefined;
    return new CgroupManager('v1', root, parent, controllers, unified);
  }

  /** Relative path of a pod's cgroup. */
  podPath(podUid: string): string {
    return `${this.parent}/pod${podUid}`;
  }

  /** Relative path of a container's cgroup. */
  containerPath(podUid: string, containerId: string): string {
    return `${this.podPath(podUid)}/${containerId.slice(0, 24)}`;
  }

  /** Every directory this manager keeps for a relative path (one per hierarchy). */
  dirs(rel: string): string[] {
    if (this.mode === 'none') return [];
    if (this.mode === 'v2') return [join(this.root, rel)];
    const out = this.controllers.map((c) => join(this.root, c, rel));
    if (this.unified) out.push(join(this.unified, rel));
    return out;
  }

  /** The cgroup.procs files a process writes its pid into to join the cgroup. */
  procsFiles(rel: string): string[] {
    return this.dirs(rel).map((d) => join(d, 'cgroup.procs'));
  }

  private v1(c: V1Controller, rel: string): string | undefined {
    return this.controllers.includes(c) ? join(this.root, c, rel) : undefined;
  }

  /** On v2, controllers must be enabled in every ancestor's subtree_control. */
  private async enableV2Controllers(rel: string): Promise<void> {
    const available = (await readText(join(this.root, 'cgroup.controllers')))?.trim().split(/\s+/) ?? [];
    const wanted = ['memory', 'cpu', 'pids'].filter((c) => available.includes(c));
    if (wanted.length === 0) return;
    const parts = rel.split('/');
    let dir = this.root;
    for (let i = 0; i < parts.length; i++) {
      const have = (await readText(join(dir, 'cgroup.subtree_control')))?.trim().split(/\s+/) ?? [];
      const missing = wanted.filter((c) => !have.includes(c));
      if (missing.length) await writeKnob(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '), true);
      dir = join(dir, parts[i]);
    }
  }

  /** Creates the container's cgroup with its limits. */
  async create(rel: string, limits: CgroupLimits): Promise<void> {
    if (this.mode === 'none') return;
    if (this.mode === 'v2') await this.enableV2Controllers(rel);
    for (const d of this.dirs(rel)) await mkdir(d, { recursive: true });
    await this.apply(rel, limits);
  }

  async apply(rel: string, limits: CgroupLimits): Promise<void> {
    const period = limits.cpuPeriodUs ?? cfsPeriodUs;
    if (this.mode === 'v1') {
      const mem = this.v1('memory', rel);
      if (mem && limits.memoryLimitBytes) await writeKnob(join(mem, 'memory.limit_in_bytes'), String(limits.memoryLimitBytes));
      const cpu = this.v1('cpu', rel);
      if (cpu) {
        if (limits.cpuShares) await writeKnob(join(cpu, 'cpu.shares'), String(limits.cpuShares));
        if (limits.cpuQuotaUs) {
          await writeKnob(join(cpu, 'cpu.cfs_period_us'), String(period));
          await writeKnob(join(cpu, 'cpu.cfs_quota_us'), String(limits.cpuQuotaUs));
        }
      }
      const pids = this.v1('pids', rel);
      if (pids && limits.pidsMax) await writeKnob(join(pids, 'pids.max'), String(limits.pidsMax));
      return;
    }
    if (this.mode === 'v2') {
      const d = join(this.root, rel);
      if (limits.memoryLimitBytes) {
        await writeKnob(join(d, 'memory.max'), String(limits.memoryLimitBytes), true);
        // No swap for containers with a memory limit, as kubelet's default (NoSwap).
        await writeKnob(join(d, 'memory.swap.max'), '0', true);
      }
      if (limits.cpuShares) await writeKnob(join(d, 'cpu.weight'), String(sharesToWeight(limits.cpuShares)), true);
      if (limits.cpuQuotaUs) await writeKnob(join(d, 'cpu.max'), `${limits.cpuQuotaUs} ${period}`, true);
      if (limits.pidsMax) await writeKnob(join(d, 'pids.max'), String(limits.pidsMax), true);
    }
  }

  /** Pids in the cgroup (from the tracking hierarchy when there is one). */
  async procs(rel: string): Promise<number[]> {
    if (this.mode === 'none') return [];
    const seen = new Set<number>();
    const candidates = this.unified ? [join(this.unified, rel)] : [];
    const mem = this.mode === 'v1' ? this.v1('memory', rel) : undefined;
    if (mem) candidates.push(mem);
    if (this.mode === 'v2') candidates.push(join(this.root, rel));
    for (const d of candidates) {
      const text = await readText(join(d, 'cgroup.procs'));
      for (const l of (text ?? '').split('\n')) if (/^\d+$/.test(l.trim())) seen.add(Number(l.trim()));
    }
    return [...seen];
  }

  /** SIGKILLs everything in the cgroup (cgroup.kill where the kernel has it) until it is empty. */
  async kill(rel: string, timeoutMs = 5_000): Promise<boolean> {
    if (this.mode === 'none') return true;
    const killFile = this.unified ? join(this.unified, rel, 'cgroup.kill') : this.mode === 'v2' ? join(this.root, rel, 'cgroup.kill') : undefined;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pids = await this.procs(rel);
      if (pids.length === 0) return true;
      if (Date.now() > deadline) return false;
      let killed = false;
      if (killFile && existsSync(killFile)) {
        try {
          await writeFile(killFile, '1');
          killed = true;
        } catch {
          killed = false;
        }
      }
      if (!killed)
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      await sleep(10);
    }
  }

  /** Removes the cgroup directories (deepest hierarchy level first); missing ones are fine. */
  async remove(rel: string): Promise<void> {
    for (const d of this.dirs(rel)) {
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(d);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          // A dying process can keep the cgroup busy for a moment.
          if (code === 'EBUSY' && attempt < 50) {
            await sleep(20);
            continue;
          }
          throw err;
        }
      }
    }
  }

  /** Removes the (empty) parent cgroup of all pods, e.g. when a test or a node is torn down. */
  async removeParent(): Promise<void> {
    // Another agent sharing the parent still has pods: leave it.
    if (this.children(this.parent).length > 0) return;
    await this.remove(this.parent);
  }

  /** Whether the kernel's OOM killer killed a process of this cgroup. */
  async oomKills(rel: string): Promise<number> {
    if (this.mode === 'v1') {
      const mem = this.v1('memory', rel);
      if (!mem) return 0;
      const ctl = parseFlatKeyed(await readText(join(mem, 'memory.oom_control')));
      return ctl.get('oom_kill') ?? 0;
    }
    if (this.mode === 'v2') return parseFlatKeyed(await readText(join(this.root, rel, 'memory.events'))).get('oom_kill') ?? 0;
    return 0;
  }

  /** CPU and memory usage of the cgroup, as cAdvisor reads it; undefined without cgroups. */
  async stats(rel: string): Promise<CgroupStats | undefined> {
    if (this.mode === 'v1') {
      const acct = this.v1('cpuacct', rel);
      const mem = this.v1('memory', rel);
      const usageText = acct ? readKnobText(join(acct, 'cpuacct.usage')) : undefined;
      const memUsage = mem ? Number((readKnobText(join(mem, 'memory.usage_in_bytes')))?.trim() ?? 0) : 0;
      const stat = parseFlatKeyed(mem ? readKnobText(join(mem, 'memory.stat')) : undefined);
      if (usageText === undefined && !mem) return undefined;
      const inactive = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
      return {
        cpuUsageNanoSeconds: Number(usageText?.trim() ?? 0),
        memoryUsageBytes: memUsage,
        workingSetBytes: Math.max(0, memUsage - inactive),
        rssBytes: stat.get('total_rss') ?? stat.get('rss') ?? 0,
      };
    }
    if (this.mode === 'v2') {
      const d = join(this.root, rel);
      const cpu = parseFlatKeyed(readKnobText(join(d, 'cpu.stat')));
      const current = Number((readKnobText(join(d, 'memory.current')))?.trim() ?? 0);
      const stat = parseFlatKeyed(readKnobText(join(d, 'memory.stat')));
      return {
        cpuUsageNanoSeconds: (cpu.get('usage_usec') ?? 0) * 1000,
        memoryUsageBytes: current,
        workingSetBytes: Math.max(0, current - (stat.get('inactive_file') ?? 0)),
        rssBytes: stat.get('anon') ?? 0,
      };
    }
    return undefined;
  }

  /** Every container cgroup currently under `<parent>/pod<uid>/` (for orphan cleanup). */
  listPodCgroups(): string[] {
    if (this.mode === 'none') return [];
    const base = this.mode === 'v2' ? join(this.root, this.parent) : this.controllers.includes('memory') ? join(this.root, 'memory', this.parent) : undefined;
    if (!base || !existsSync(base)) return [];
    try {
      return readdirNames(base).filter((n) => n.startsWith('pod')).map((n) => `${this.parent}/${n}`);
    } catch {
      return [];
    }
  }

  /** Child cgroups (relative paths) of a relative path, from the first hierarchy holding it. */
  children(rel: string): string[] {
    for (const d of this.dirs(rel)) {
      if (!existsSync(d)) continue;
      try {
        return readdirNames(d).map((n) => `${rel}/${n}`);
      } catch {
        continue;
      }
    }
    return [];
  }
}

function readdirNames(dir: string): string[] {
  // cgroup directories hold only knobs (files) and child cgroups (directories).
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
}

/** Reads a whole cgroup knob synchronously (tests). */
export function readKnob(path: string): string {
  return readFileSync(path, 'utf8').trim();
}
