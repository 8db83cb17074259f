/**
 * @module The process runtime: a PodRuntime whose containers are host processes. A pod
 * sandbox is a network namespace on the node bridge plus the pod's hosts/resolv.conf
 * files; a container is its command run by skiff-shim inside that namespace, in a
 * private mount namespace (volumes at their mountPath, its own /tmp), its own process
 * group and cgroup (memory, cpu, pids limits), as runAsUser/runAsGroup. Everything is
 * recorded under the state dir so a restarted agent finds its pods again; removing a pod
 * removes its namespace, veth, cgroups, processes and files. Without root (or off
 * Linux) pods run on the host network without isolation, and capabilities() says so.
 */
import { spawn } from 'node:child_process';
import type { Readable, Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, createWriteStream, existsSync, openSync, readFileSync, statSync, writeFileSync, writeSync, type Stats } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseQuantity } from '../../../api/quantity.js';
import { imageRef, normalizeImage } from '../../hollow/runtime.js';
import {
  RuntimeNotFoundError,
  type ContainerConfig,
  type ContainerMount,
  type ContainerStatus,
  type ExecResult,
  type PodRuntime,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type PulledImage,
  type RuntimeEvent,
  type SandboxState,
} from '../../runtime.js';
import { dialInNetns, dialTcp, runHostCommand } from '../../streaming/host-exec.js';
import { readCriLog } from '../../streaming/logs.js';
import { formatResolvConf, hostResolvConfText, podDNSConfig } from '../../dns.js';
import { ContainerNotRunningError, type LogOptions, type StreamIO, type StreamingRuntime } from '../../streaming/types.js';
import { CgroupManager, milliCPUToQuota, milliCPUToShares, type CgroupLimits } from './cgroups.js';
import { launcherArgv, launcherScript, launchSpec, nativeLauncherArgv, stageDir, startErrorExitCode, type LauncherMount, type LauncherSpec, type LauncherTools } from './launcher.js';
import { containerLogFile, defaultContainerLogMaxBytes, defaultContainerLogMaxFiles, podLogDir, removeContainerLogs } from './logs.js';
import { HostPorts } from './hostports.js';
import { compileLauncher, compileShim, findTool, launchInAgent, launchWithShim, processStartTime, readExitFile, sameProcess, type Launched } from './monitor.js';
import { Ipam, PodNetwork, netnsPath, run } from './network.js';
import {
  ContainerCreateError,
  SandboxCreateError,
  type ContainerStats,
  type ProcessContainerConfig,
  type ProcessRuntimeCapabilities,
  type ProcessRuntimeOptions,
  type ProcessSandboxConfig,
} from './types.js';

/** The PATH a container gets when its env does not set one (the Debian image default). */
export const defaultContainerPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** kubelet reads at most this much of an exec probe's output. */
const maxExecOutput = 10 * 1024;

interface SandboxRecord {
  id: string;
  config: ProcessSandboxConfig;
  state: SandboxState;
  ip: string;
  createdAt: number;
  hostNetwork: boolean;
  netns?: string;
  hostVeth?: string;
}

interface ContainerUser {
  uid?: number;
  gid?: number;
  supplementalGroups?: number[];
}

interface ContainerRecord {
  status: ContainerStatus;
  config: ProcessContainerConfig;
  env: Record<string, string>;
  logPath: string;
  /** Relative cgroup path, when the host has cgroups for us. */
  cgroup?: string;
  /** Mount points created on the host for this container, parents first. */
  createdPaths: string[];
  user?: ContainerUser;
  pid?: number;
  pidStart?: string;
  shimPid?: number;
  shimStart?: string;
}

/** What only this agent process knows about a container (promises, flags). */
interface LiveState {
  exited: Promise<void>;
  resolveExited: () => void;
  /** The agent started it in this process: its monitor reports the exit. */
  watched: boolean;
  /** The agent asked it to stop: its exit is not news (no ContainerDied). */
  stopping: boolean;
  finalizing?: Promise<void>;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "/a/b" is inside "/a" (or is it). */
function within(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
}

/** A user's passwd entry on the host (containers share the host's /etc/passwd). */
function passwdEntry(uid: number): { gid: number; home: string } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid) return { gid: Number(f[3]), home: f[5] };
    }
  } catch {
    /* no passwd file */
  }
  return undefined;
}

/** kubelet's cgroup settings for a container from its resources (requests default to limits). */
export function cgroupLimitsFor(resources: ProcessContainerConfig['resources'], pidsMax?: number): CgroupLimits {
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  const out: CgroupLimits = {};
  if (limits.memory !== undefined) out.memoryLimitBytes = parseQuantity(limits.memory).value();
  const cpuRequest = requests.cpu ?? limits.cpu;
  out.cpuShares = milliCPUToShares(cpuRequest !== undefined ? parseQuantity(cpuRequest).milliValue() : 0);
  if (limits.cpu !== undefined) {
    const quota = milliCPUToQuota(parseQuantity(limits.cpu).milliValue());
    if (quota > 0) out.cpuQuotaUs = quota;
  }
  if (pidsMax && pidsMax > 0) out.pidsMax = pidsMax;
  return out;
}

/** Serializes writes per file so the last state written is the last state on disk. */
class RecordWriter {
  private readonly chains = new Map<string, Promise<void>>();

  private enqueue(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn).catch(() => undefined);
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  write(path: string, value: unknown): Promise<void> {
    const data = JSON.stringify(value);
    return this.enqueue(path, async () => {
      const tmp = `${path}.tmp`;
      try {
        await writeFile(tmp, data);
        await rename(tmp, path);
      } catch (err) {
        // The record's directory is gone: the object was removed meanwhile.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    });
  }

  removeDir(key: string, dir: string): Promise<void> {
    return this.enqueue(key, () => rm(dir, { recursive: true, force: true }));
  }
}

export class ProcessRuntime implements PodRuntime, StreamingRuntime {
  readonly runtimeName = 'process';
  readonly runtimeVersion = 'process://1.0';
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly live = new Map<string, LiveState>();
  /** Sandboxes being set up: not yet anyone's to clean up. */
  private readonly creating = new Set<string>();
  private readonly listeners = new Set<(ev: RuntimeEvent) => void>();
  private readonly cpuSamples = new Map<string, { at: number; usage: number; nanoCores: number }>();
  private readonly records = new RecordWriter();
  private readonly hostPorts = new HostPorts();
  private readonly clock: () => number;
  private readonly log: (msg: Record<string, unknown>) => void;
  private tools: LauncherTools = { sh: '/bin/sh' };
  private network?: PodNetwork;
  private ipam!: Ipam;
  private cgroups: CgroupManager = CgroupManager.detect({ enabled: false });
  private isolate = false;
  private shim?: string;
  private launcher?: string;
  private caps!: ProcessRuntimeCapabilities;
  private relistTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(readonly opts: ProcessRuntimeOptions) {
    this.clock = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** Opens the runtime over its state dir: probes the host, builds skiff-shim, finds running pods again. */
  static async open(opts: ProcessRuntimeOptions): Promise<ProcessRuntime> {
    const rt = new ProcessRuntime(opts);
    await rt.init();
    return rt;
  }

  get stateDir(): string {
    return this.opts.stateDir;
  }

  get hostIP(): string {
    return this.opts.hostIP ?? '127.0.0.1';
  }

  get bridge(): string {
    return this.opts.bridge ?? 'skiff0';
  }

  capabilities(): ProcessRuntimeCapabilities {
    return { ...this.caps, warnings: [...this.caps.warnings] };
  }

  // ---- setup and recovery ----

  private async init(): Promise<void> {
    const dir = this.opts.stateDir;
    for (const sub of ['sandboxes', 'containers', 'pods', 'bin']) await mkdir(join(dir, sub), { recursive: true });
    this.ipam = new Ipam(join(dir, 'ipam.json'), this.opts.podCIDR);
    const warnings: string[] = [];
    const linux = process.platform === 'linux';
    const root = process.getuid?.() === 0;
    this.tools = {
      sh: existsSync('/bin/sh') ? '/bin/sh' : 'sh',
      nsenter: findTool('nsenter'),
      unshare: findTool('unshare'),
      setpriv: findTool('setpriv'),
      mount: findTool('mount'),
      umount: findTool('umount'),
    };
    const ip = findTool('ip');
    if (this.opts.isolation === 'none') warnings.push('pod isolation is turned off: pods run on the host network without namespaces or cgroups');
    else if (!linux) warnings.push(`pod isolation needs Linux (this is ${process.platform}): pods run on the host network`);
    else if (!root) warnings.push('the node agent is not running as root: pods run on the host network without namespaces or cgroups');
    else {
      const missing: string[] = (['nsenter', 'unshare', 'mount'] as const).filter((t) => !this.tools[t]);
      if (!ip) missing.push('ip');
      if (missing.length) warnings.push(`missing ${missing.join(', ')} (iproute2, util-linux): pods run on the host network`);
      else this.isolate = true;
    }
    if (this.isolate) {
      const network = new PodNetwork({ bridge: this.bridge, podCIDR: this.opts.podCIDR, ipam: this.ipam, ip });
      try {
        await network.ensureBridge();
        // The first `ip netns add` also sets up /run/netns; do it once, not under a burst of pods.
        const probe = `skiff-probe-${process.pid}`;
        await run(ip!, ['netns', 'add', probe]);
        await run(ip!, ['netns', 'del', probe]);
        this.network = network;
      } catch (err) {
        warnings.push(`cannot set up pod networking (${errorMessage(err).slice(0, 200)}): pods run on the host network`);
      }
    }
    this.cgroups = CgroupManager.detect({ enabled: this.isolate, parent: this.opts.cgroupParent ?? 'skiff' });
    if (this.isolate && this.cgroups.mode === 'none') warnings.push('no usable cgroup hierarchy: resource limits are not enforced');
    if (this.isolate && !this.tools.setpriv) warnings.push('setpriv (util-linux) is missing: runAsUser/runAsGroup are not honoured');
    const monitor = this.opts.monitor ?? 'auto';
    if (monitor !== 'agent') {
      this.shim = await compileShim(join(dir, 'bin'), this.log);
      if (!this.shim && monitor === 'shim') throw new Error('skiff-shim could not be built (is a C compiler installed?)');
    }
    if (!this.shim) warnings.push('skiff-shim is not available: containers stop when the node agent stops');
    // Native launching needs a C compiler too; the shell preamble does the same with ~20 programs per start.
    if (this.opts.nativeLauncher !== false) this.launcher = await compileLauncher(join(dir, 'bin'), this.log);
    this.caps = {
      network: this.network ? 'pod' : 'host',
      mountNamespaces: this.isolate,
      cgroups: this.cgroups.mode,
      runAsUser: this.isolate && !!this.tools.setpriv,
      survivesRestart: !!this.shim,
      warnings,
    };
    await this.recover();
    const every = this.opts.relistIntervalMs ?? 1000;
    this.relistTimer = setInterval(() => void this.relist(), every);
    this.relistTimer.unref?.();
  }

  private sandboxDir(id: string): string {
    return join(this.opts.stateDir, 'sandboxes', id);
  }

  private containerDir(id: string): string {
    return join(this.opts.stateDir, 'containers', id);
  }

  private saveSandbox(s: SandboxRecord): Promise<void> {
    return this.records.write(join(this.sandboxDir(s.id), 'sandbox.json'), s);
  }

  private saveContainer(c: ContainerRecord): Promise<void> {
    return this.records.write(join(this.containerDir(c.status.id), 'container.json'), c);
  }

  private liveState(id: string, watched: boolean): LiveState {
    let l = this.live.get(id);
    if (!l) {
      let resolveExited!: () => void;
      const exited = new Promise<void>((r) => (resolveExited = r));
      l = { exited, resolveExited, watched, stopping: false };
      this.live.set(id, l);
    }
    return l;
  }

  /** Reads the state dir back after a restart and reconciles it with what still runs. */
  private async recover(): Promise<void> {
    const read = async <T>(dir: string, file: string): Promise<T[]> => {
      const out: T[] = [];
      let names: string[] = [];
      try {
        names = await readdir(dir);
      } catch {
        return out;
      }
      for (const n of names) {
        try {
          out.push(JSON.parse(await readFile(join(dir, n, file), 'utf8')) as T);
        } catch {
          // Half-created (crash before the first record write): nothing to recover.
          await rm(join(dir, n), { recursive: true, force: true });
        }
      }
      return out;
    };
    for (const s of await read<SandboxRecord>(join(this.opts.stateDir, 'sandboxes'), 'sandbox.json')) this.sandboxes.set(s.id, s);
    for (const c of await read<ContainerRecord>(join(this.opts.stateDir, 'containers'), 'container.json')) {
      if (!this.sandboxes.has(c.status.sandboxId)) {
        await this.destroyLeftovers(c);
        continue;
      }
      this.containers.set(c.status.id, c);
    }
    for (const s of this.sandboxes.values()) {
      if (s.state !== 'SANDBOX_READY') continue;
      // A host reboot (or someone) removed the namespace: the sandbox is gone with it.
      const lost = !s.hostNetwork && (!s.netns || !existsSync(netnsPath(s.netns)) || !this.network);
      if (lost) {
        s.state = 'SANDBOX_NOTREADY';
        if (s.netns && this.network) await this.network.tearDown(s.id, s.netns, s.hostVeth ?? '').catch(() => undefined);
        await this.saveSandbox(s);
      } else if (!s.hostNetwork) {
        // The relays died with the previous agent: open them again.
        await this.hostPorts.start(s.id, s.ip, s.config.portMappings).catch((err) => this.log({ level: 'warn', msg: 'cannot reopen hostPorts', sandbox: s.id, error: errorMessage(err) }));
      }
    }
    await this.ipam.retainOnly(new Set([...this.sandboxes.values()].filter((s) => s.state === 'SANDBOX_READY').map((s) => s.id)));
    for (const c of this.containers.values()) {
      if (c.status.state !== 'CONTAINER_RUNNING') continue;
      this.liveState(c.status.id, false);
      await this.check(c);
    }
    const running = [...this.containers.values()].filter((c) => c.status.state === 'CONTAINER_RUNNING').length;
    if (this.sandboxes.size) this.log({ level: 'info', msg: 'process runtime recovered state', sandboxes: this.sandboxes.size, containers: this.containers.size, running });
  }

  /** A container record without its sandbox (crash mid-removal): kill and delete what is left. */
  private async destroyLeftovers(c: ContainerRecord): Promise<void> {
    if (sameProcess(c.pid, c.pidStart)) this.signalGroup(c, 'SIGKILL');
    if (c.cgroup) {
      await this.cgroups.kill(c.cgroup).catch(() => false);
      await this.cgroups.remove(c.cgroup).catch(() => undefined);
    }
    await this.removeCreatedPaths(c);
    await rm(this.containerDir(c.status.id), { recursive: true, force: true });
  }

  /** PLEG relist: containers this process did not start are checked through their files and pids. */
  private async relist(): Promise<void> {
    if (this.closed) return;
    for (const c of this.containers.values()) {
      if (c.status.state !== 'CONTAINER_RUNNING') continue;
      const l = this.live.get(c.status.id);
      if (l?.watched) continue;
      try {
        await this.check(c);
      } catch (err) {
        this.log({ level: 'warn', msg: 'relist failed', container: c.status.id, error: errorMessage(err) });
      }
    }
  }

  /** Finalizes a running container whose exit is recorded, or whose processes are gone. */
  private async check(c: ContainerRecord): Promise<void> {
    const exitFile = join(this.containerDir(c.status.id), 'exit');
    if (existsSync(exitFile)) return this.finalize(c.status.id);
    const shimAlive = c.shimPid !== undefined && sameProcess(c.shimPid, c.shimStart);
    if (shimAlive) return;
    if (sameProcess(c.pid, c.pidStart)) {
      // Nobody collects its output or exit status any more (its monitor died): end it.
      if (c.shimPid !== undefined || !this.live.get(c.status.id)?.watched) this.signalGroup(c, 'SIGKILL');
      return;
    }
    return this.finalize(c.status.id);
  }

  // ---- events ----

  subscribe(listener: (ev: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(ev: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch (err) {
        this.log({ level: 'warn', msg: 'runtime event listener failed', error: errorMessage(err) });
      }
    }
  }

  // ---- sandboxes ----

  private sandbox(id: string): SandboxRecord {
    const s = this.sandboxes.get(id);
    if (!s) throw new RuntimeNotFoundError('sandbox', id);
    return s;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const cfg = structuredClone(config) as ProcessSandboxConfig;
    // A restarted agent asks again for pods that kept running: hand back their sandbox.
    for (const s of this.sandboxes.values()) if (s.config.uid === cfg.uid && s.state === 'SANDBOX_READY') return s.id;
    const id = newId();
    const hostNetwork = !!cfg.hostNetwork || !this.network;
    const rec: SandboxRecord = { id, config: cfg, state: 'SANDBOX_NOTREADY', ip: '', createdAt: this.clock(), hostNetwork };
    if (!hostNetwork) {
      const prefix = cfg.uid.replace(/-/g, '').slice(0, 12) || id.slice(0, 12);
      rec.netns = cfg.attempt > 0 ? `skiff-${prefix}-${cfg.attempt}` : `skiff-${prefix}`;
      rec.hostVeth = `skv${id.slice(0, 12)}`;
    }
    this.sandboxes.set(id, rec);
    this.creating.add(id);
    try {
      await mkdir(this.sandboxDir(id), { recursive: true });
      // Recorded before the namespace exists, so a crash mid-setup leaves something to clean up.
      await this.saveSandbox(rec);
      rec.ip = hostNetwork ? this.hostIP : await this.network!.setUp(id, rec.netns!, rec.hostVeth!);
      await this.writeSandboxFiles(rec);
      await mkdir(podLogDir(this.opts.stateDir, cfg.namespace, cfg.name, cfg.uid), { recursive: true });
      // hostNetwork pods already listen on the node's own ports.
      if (!hostNetwork) await this.hostPorts.start(id, rec.ip, cfg.portMappings);
      rec.state = 'SANDBOX_READY';
      await this.saveSandbox(rec);
    } catch (err) {
      await this.removePodSandbox(id).catch(() => undefined);
      throw new SandboxCreateError(`failed to create pod sandbox for ${cfg.namespace}/${cfg.name}: ${errorMessage(err)}`);
    } finally {
      this.creating.delete(id);
    }
    return id;
  }

  private async writeSandboxFiles(s: SandboxRecord): Promise<void> {
    const dir = this.sandboxDir(s.id);
    const hosts = this.hostsFile(s);
    if (hosts !== undefined) await writeFile(join(dir, 'hosts'), hosts);
    const resolv = this.resolvConf(s);
    if (resolv !== undefined) await writeFile(join(dir, 'resolv.conf'), resolv);
    await writeFile(join(dir, 'hostname'), `${s.config.hostname}\n`);
  }

  private get clusterDomain(): string {
    return this.opts.clusterDomain ?? 'cluster.local';
  }

  /** kubelet's managed /etc/hosts; host-network pods keep the host's. */
  private hostsFile(s: SandboxRecord): string | undefined {
    if (s.hostNetwork) return undefined;
    const c = s.config;
    const lines = [
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
    ];
    if (c.subdomain) lines.push(`${s.ip}\t${c.hostname}.${c.subdomain}.${c.namespace}.svc.${this.clusterDomain}\t${c.hostname}`);
    else lines.push(`${s.ip}\t${c.hostname}`);
    const aliases = (c.hostAliases ?? []).filter((a) => a.ip && a.hostnames?.length);
    if (aliases.length) {
      lines.push('', '# Entries added by HostAliases.');
      for (const a of aliases) lines.push(`${a.ip}\t${a.hostnames!.join('\t')}`);
    }
    return lines.join('\n') + '\n';
  }

  /** kubelet's resolv.conf per dnsPolicy (src/kubelet/dns.ts: cluster DNS, namespace search path, ndots:5). */
  private resolvConf(s: SandboxRecord): string | undefined {
    const c = s.config;
    const policy = c.dnsPolicy || 'ClusterFirst';
    // A host-network pod on the node's own resolver settings keeps the node's file.
    if (s.hostNetwork && policy !== 'ClusterFirstWithHostNet' && policy !== 'None' && !c.dnsConfig) return undefined;
    const node = { clusterDNS: this.opts.clusterDNS ?? ['10.43.0.10'], clusterDomain: this.clusterDomain, hostResolvConf: hostResolvConfText() };
    return formatResolvConf(podDNSConfig({ namespace: c.namespace, hostNetwork: s.hostNetwork, dnsPolicy: c.dnsPolicy, dnsConfig: c.dnsConfig }, node));
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    const s = this.sandbox(sandboxId);
    return { id: s.id, state: s.state, ip: s.state === 'SANDBOX_READY' ? s.ip : '', createdAt: s.createdAt };
  }

  /** Kills what still runs in the sandbox and releases its network (CRI StopPodSandbox). */
  async stopPodSandbox(sandboxId: string): Promise<void> {
    const s = this.sandboxes.get(sandboxId);
    if (!s) return;
    this.hostPorts.stop(sandboxId);
    await Promise.all(this.containersOf(sandboxId).map((c) => this.stopContainer(c.status.id, 0)));
    if (s.netns && this.network) {
      // A sandbox left half-made by a crash shares its namespace name with its successor: not ours to delete then.
      const taken = [...this.sandboxes.values()].some((o) => o !== s && o.netns === s.netns && (o.state === 'SANDBOX_READY' || this.creating.has(o.id)));
      if (taken) await this.ipam.release(s.id);
      else await this.network.tearDown(s.id, s.netns, s.hostVeth ?? '');
    }
    if (s.state !== 'SANDBOX_NOTREADY') {
      s.state = 'SANDBOX_NOTREADY';
      await this.saveSandbox(s);
    }
  }

  /** Removes everything of the sandbox: containers, cgroups, namespace, files, logs. */
  async removePodSandbox(sandboxId: string): Promise<void> {
    const s = this.sandboxes.get(sandboxId);
    if (!s) return;
    await this.stopPodSandbox(sandboxId);
    for (const c of this.containersOf(sandboxId)) await this.removeContainer(c.status.id);
    this.sandboxes.delete(sandboxId);
    const samePod = [...this.sandboxes.values()].some((o) => o.config.uid === s.config.uid);
    if (!samePod) {
      if (this.cgroups.mode !== 'none') await this.cgroups.remove(this.cgroups.podPath(s.config.uid)).catch((err) => this.log({ level: 'warn', msg: 'cannot remove pod cgroup', error: errorMessage(err) }));
      await rm(podLogDir(this.opts.stateDir, s.config.namespace, s.config.name, s.config.uid), { recursive: true, force: true });
    }
    await this.records.removeDir(join(this.sandboxDir(sandboxId), 'sandbox.json'), this.sandboxDir(sandboxId));
  }

  /** Sandboxes the runtime holds (for the agent's orphan cleanup after a restart). */
  listPodSandboxes(): Array<{ id: string; uid: string; namespace: string; name: string; state: SandboxState; createdAt: number }> {
    return [...this.sandboxes.values()].filter((s) => !this.creating.has(s.id)).map((s) => ({ id: s.id, uid: s.config.uid, namespace: s.config.namespace, name: s.config.name, state: s.state, createdAt: s.createdAt }));
  }

  /** The sandbox's network namespace path (undefined: host network). */
  sandboxNetnsPath(sandboxId: string): string | undefined {
    const s = this.sandbox(sandboxId);
    return s.netns && !s.hostNetwork ? netnsPath(s.netns) : undefined;
  }

  // ---- images ----

  async pullImage(image: string): Promise<PulledImage> {
    // An image is only a name to the process runtime: nothing to pull.
    return { imageRef: imageRef(image), pulled: false };
  }

  // ---- containers ----

  private container(id: string): ContainerRecord {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeNotFoundError('container', id);
    return c;
  }

  private containersOf(sandboxId: string): ContainerRecord[] {
    return [...this.containers.values()].filter((c) => c.status.sandboxId === sandboxId);
  }

  private userOf(cfg: ProcessContainerConfig): ContainerUser | undefined {
    const sc = cfg.securityContext;
    if (!sc || (sc.runAsUser === undefined && sc.runAsGroup === undefined)) return undefined;
    const uid = sc.runAsUser;
    // Without runAsGroup the primary group comes from passwd, else 0 (containerd's rule).
    const gid = sc.runAsGroup ?? (uid !== undefined ? (passwdEntry(uid)?.gid ?? 0) : undefined);
    return { uid, gid, supplementalGroups: sc.supplementalGroups };
  }

  private containerEnv(cfg: ProcessContainerConfig, s: SandboxRecord, user?: ContainerUser): Record<string, string> {
    const uid = user?.uid ?? 0;
    const home = uid === 0 ? '/root' : (passwdEntry(uid)?.home ?? '/');
    const env: Record<string, string> = { PATH: defaultContainerPath, HOSTNAME: s.config.hostname, HOME: home };
    for (const e of cfg.env ?? []) env[e.name] = e.value;
    return env;
  }

  /**
   * Host-side mount points: a mountPath missing on the host is created (and recorded, to
   * be removed with the container) unless it lies in /tmp, /dev/shm or another volume,
   * where the container's own mount namespace creates it.
   */
  private async prepareMounts(mounts: ContainerMount[]): Promise<{ launcher: LauncherMount[]; created: string[] }> {
    const launcher: LauncherMount[] = [];
    const created: string[] = [];
    for (const m of mounts) {
      let file = false;
      try {
        file = !(await stat(m.hostPath)).isDirectory();
      } catch {
        throw new ContainerCreateError(`failed to prepare mount for ${m.containerPath}: host path ${m.hostPath} does not exist`);
      }
      if (!m.containerPath.startsWith('/')) throw new ContainerCreateError(`mount path ${m.containerPath} must be absolute`);
      launcher.push({ hostPath: m.hostPath, containerPath: m.containerPath, readOnly: m.readOnly, file });
      const private_ = within(m.containerPath, '/tmp') || within(m.containerPath, '/dev/shm') || mounts.some((o) => o !== m && within(m.containerPath, o.containerPath) && o.containerPath !== m.containerPath);
      if (private_ || existsSync(m.containerPath)) continue;
      const parts = m.containerPath.split('/').filter(Boolean);
      let p = '';
      for (let i = 0; i < parts.length; i++) {
        p += `/${parts[i]}`;
        if (existsSync(p)) continue;
        const last = i === parts.length - 1;
        if (last && file) await writeFile(p, '', { flag: 'a' });
        else await mkdir(p);
        created.push(p);
      }
    }
    return { launcher, created };
  }

  /** Removes the host mount points only this container needed (deepest first, only when empty). */
  private async removeCreatedPaths(c: ContainerRecord): Promise<void> {
    const inUse = new Set<string>();
    for (const o of this.containers.values()) if (o !== c) for (const p of o.createdPaths ?? []) inUse.add(p);
    for (const p of [...(c.createdPaths ?? [])].reverse()) {
      if (inUse.has(p)) continue;
      try {
        const st = await stat(p);
        if (st.isDirectory()) await rmdir(p);
        else if (st.size === 0) await unlink(p);
      } catch {
        /* not empty, busy or gone: leave it */
      }
    }
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const s = this.sandbox(sandboxId);
    if (s.state !== 'SANDBOX_READY') throw new ContainerCreateError(`sandbox ${sandboxId} is not ready`);
    const cfg = structuredClone(config) as ProcessContainerConfig;
    if (!cfg.command?.length && !cfg.args?.length)
      throw new ContainerCreateError(`skiff process runtime: image entrypoint of "${cfg.image}" is unknown; set command`);
    const id = newId();
    const pod = s.config;
    const logPath = containerLogFile(this.opts.stateDir, pod.namespace, pod.name, pod.uid, cfg.name, cfg.attempt);
    const user = this.userOf(cfg);
    let limits: CgroupLimits;
    try {
      limits = cgroupLimitsFor(cfg.resources, this.opts.podPidsLimit);
    } catch (err) {
      throw new ContainerCreateError(`invalid resources: ${errorMessage(err)}`);
    }
    const rec: ContainerRecord = {
      status: {
        id,
        sandboxId,
        name: cfg.name,
        attempt: cfg.attempt,
        role: cfg.role,
        state: 'CONTAINER_CREATED',
        image: normalizeImage(cfg.image),
        imageRef: imageRef(cfg.image),
        createdAt: this.clock(),
      },
      config: cfg,
      env: this.containerEnv(cfg, s, user),
      logPath,
      createdPaths: [],
      user,
    };
    try {
      await mkdir(this.containerDir(id), { recursive: true });
      await mkdir(dirname(logPath), { recursive: true });
      // A fresh file per attempt: readers can open it before the first line arrives.
      await writeFile(logPath, '');
      if (this.isolate && cfg.mounts?.length) {
        const prepared = await this.prepareMounts(cfg.mounts);
        rec.createdPaths = prepared.created;
      }
      if (this.cgroups.mode !== 'none') {
        rec.cgroup = this.cgroups.containerPath(pod.uid, id);
        await this.cgroups.create(rec.cgroup, limits);
      }
      this.containers.set(id, rec);
      await this.saveContainer(rec);
    } catch (err) {
      this.containers.delete(id);
      await this.destroyLeftovers(rec).catch(() => undefined);
      if (err instanceof ContainerCreateError) throw err;
      throw new ContainerCreateError(`failed to create container ${cfg.name}: ${errorMessage(err)}`);
    }
    await this.collectDeadContainers(sandboxId, cfg.name);
    return id;
  }

  /** kubelet's container GC: of a container's exited attempts only the newest is kept (for lastState and --previous). */
  private async collectDeadContainers(sandboxId: string, name: string): Promise<void> {
    const dead = this.containersOf(sandboxId)
      .filter((c) => c.status.name === name && c.status.state === 'CONTAINER_EXITED')
      .sort((a, b) => b.status.attempt - a.status.attempt || b.status.createdAt - a.status.createdAt);
    for (const c of dead.slice(1)) await this.removeContainer(c.status.id);
  }

  private launchArgv(c: ContainerRecord, s: SandboxRecord): string[] {
    const cfg = c.config;
    const dir = this.sandboxDir(s.id);
    const etcFiles = this.isolate
      ? {
          hosts: existsSync(join(dir, 'hosts')) ? join(dir, 'hosts') : undefined,
          resolvConf: existsSync(join(dir, 'resolv.conf')) ? join(dir, 'resolv.conf') : undefined,
          hostname: s.hostNetwork ? undefined : join(dir, 'hostname'),
        }
      : undefined;
    const mounts: LauncherMount[] = (cfg.mounts ?? []).map((m) => {
      const st = statSyncSafe(m.hostPath);
      const file = !!st && !st.isDirectory();
      return { hostPath: m.hostPath, containerPath: m.containerPath, readOnly: m.readOnly, file };
    });
    const spec: LauncherSpec = {
      tools: this.tools,
      netnsPath: this.isolate && !s.hostNetwork && s.netns ? netnsPath(s.netns) : undefined,
      isolate: this.isolate,
      cgroupProcsFiles: c.cgroup ? this.cgroups.procsFiles(c.cgroup) : [],
      hostname: this.isolate && !s.hostNetwork ? s.config.hostname : undefined,
      etcFiles,
      hasEtcHostname: existsSync('/etc/hostname'),
      stage: existsSync('/dev/shm') ? stageDir : undefined,
      mounts: this.isolate ? mounts : [],
      workingDir: cfg.workingDir,
      user: this.isolate ? c.user : undefined,
      startErrorFile: join(this.containerDir(c.status.id), 'start-error'),
      command: [...(cfg.command ?? []), ...(cfg.args ?? [])],
    };
    if (!this.launcher) return launcherArgv(spec);
    const specFile = join(this.containerDir(c.status.id), 'launch.spec');
    writeFileSync(specFile, launchSpec(spec));
    return nativeLauncherArgv(this.launcher, specFile, spec.command);
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.container(containerId);
    if (c.status.state !== 'CONTAINER_CREATED') return;
    const s = this.sandbox(c.status.sandboxId);
    const dir = this.containerDir(containerId);
    await rm(join(dir, 'exit'), { force: true });
    await rm(join(dir, 'start-error'), { force: true });
    // spec.stdin/tty: the shim keeps a FIFO for attachers (and a terminal); the agent cannot keep either across restarts.
    const stdio = this.shim && (c.config.stdin || c.config.tty) ? { SKIFF_SHIM_STDIN: join(dir, 'stdin'), SKIFF_SHIM_CTL: join(dir, 'ctl'), ...(c.config.tty ? { SKIFF_SHIM_TTY: '1' } : {}) } : {};
    const req = {
      argv: this.launchArgv(c, s),
      env: { ...c.env, ...stdio },
      logPath: c.logPath,
      exitFile: join(dir, 'exit'),
      maxLogBytes: this.opts.containerLogMaxBytes ?? defaultContainerLogMaxBytes,
      maxLogFiles: this.opts.containerLogMaxFiles ?? defaultContainerLogMaxFiles,
    };
    let launched: Launched;
    const startedAt = this.clock();
    try {
      launched = this.shim ? await launchWithShim(this.shim, req) : await launchInAgent(req);
    } catch (err) {
      // runc's failure to start a process: the container exits at once with StartError.
      Object.assign(c.status, { state: 'CONTAINER_EXITED', startedAt, finishedAt: this.clock(), exitCode: startErrorExitCode, reason: 'StartError', message: errorMessage(err) });
      await this.saveContainer(c);
      this.emit({ type: 'ContainerDied', sandboxId: c.status.sandboxId, containerId });
      return;
    }
    c.pid = launched.pid;
    c.pidStart = processStartTime(launched.pid);
    c.shimPid = launched.shimPid;
    c.shimStart = launched.shimPid ? processStartTime(launched.shimPid) : undefined;
    c.status.state = 'CONTAINER_RUNNING';
    c.status.startedAt = startedAt;
    this.liveState(containerId, true);
    await this.saveContainer(c);
    void launched.done.then(() => this.finalize(containerId)).catch((err) => this.log({ level: 'warn', msg: 'container exit handling failed', container: containerId, error: errorMessage(err) }));
    this.emit({ type: 'ContainerStarted', sandboxId: c.status.sandboxId, containerId });
  }

  /** Records a container's exit: code, reason (Completed, Error, OOMKilled, StartError), and cleans its cgroup. */
  private finalize(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    // A closed runtime has handed its containers to the next agent.
    if (this.closed || !c || c.status.state !== 'CONTAINER_RUNNING') return Promise.resolve();
    const l = this.liveState(containerId, false);
    if (l.finalizing) return l.finalizing;
    l.finalizing = (async () => {
      const dir = this.containerDir(containerId);
      const exit = readExitFile(join(dir, 'exit'));
      let startError: string | undefined;
      try {
        startError = readFileSync(join(dir, 'start-error'), 'utf8').trim() || undefined;
      } catch {
        startError = undefined;
      }
      let oomKills = 0;
      if (c.cgroup) {
        oomKills = await this.cgroups.oomKills(c.cgroup).catch(() => 0);
        // Whatever the main process left behind in its cgroup ends with it.
        await this.cgroups.kill(c.cgroup).catch(() => false);
        await this.cgroups.remove(c.cgroup).catch((err) => this.log({ level: 'warn', msg: 'cannot remove container cgroup', error: errorMessage(err) }));
      }
      const st = c.status;
      st.state = 'CONTAINER_EXITED';
      st.finishedAt = exit?.finishedAtMs ?? this.clock();
      if (startError) {
        st.exitCode = startErrorExitCode;
        st.reason = 'StartError';
        st.message = startError;
      } else if (!exit) {
        st.exitCode = 137;
        st.reason = 'ContainerStatusUnknown';
        st.message = 'The container could not be located when the pod was terminated';
      } else {
        st.exitCode = exit.exitCode;
        st.reason = oomKills > 0 ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error';
      }
      this.cpuSamples.delete(containerId);
      await this.saveContainer(c);
      l.resolveExited();
      if (!l.stopping) this.emit({ type: 'ContainerDied', sandboxId: st.sandboxId, containerId });
    })();
    return l.finalizing;
  }

  /** Signals the container's process group (its main process leads it). */
  private signalGroup(c: ContainerRecord, signal: NodeJS.Signals): void {
    if (!c.pid || !sameProcess(c.pid, c.pidStart)) return;
    try {
      process.kill(-c.pid, signal);
    } catch {
      try {
        process.kill(c.pid, signal);
      } catch {
        /* gone */
      }
    }
  }

  /** Waits for the container to be finalized as exited; false on timeout. */
  private async waitExited(c: ContainerRecord, timeoutMs: number): Promise<boolean> {
    const l = this.liveState(c.status.id, false);
    const deadline = Date.now() + timeoutMs;
    while (c.status.state === 'CONTAINER_RUNNING') {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await Promise.race([l.exited, sleep(Math.min(left, 100))]);
      if (c.status.state === 'CONTAINER_RUNNING' && !l.watched) await this.check(c);
    }
    if (l.finalizing) await l.finalizing;
    return true;
  }

  /** SIGTERM to the process group, SIGKILL (and the whole cgroup) after timeoutSeconds. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const c = this.container(containerId);
    if (c.status.state === 'CONTAINER_CREATED') {
      Object.assign(c.status, { state: 'CONTAINER_EXITED', finishedAt: this.clock(), exitCode: 0, reason: 'Completed' });
      await this.saveContainer(c);
      return;
    }
    if (c.status.state !== 'CONTAINER_RUNNING') return;
    const l = this.liveState(containerId, false);
    l.stopping = true;
    if (timeoutSeconds > 0) {
      this.signalGroup(c, 'SIGTERM');
      if (await this.waitExited(c, timeoutSeconds * 1000)) return;
    }
    this.signalGroup(c, 'SIGKILL');
    if (c.cgroup) await this.cgroups.kill(c.cgroup, 2000).catch(() => false);
    if (await this.waitExited(c, 10_000)) return;
    // The monitor never reported (it was killed too): settle it from what is left.
    await this.finalize(containerId);
  }

  async removeContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    if (c.status.state === 'CONTAINER_RUNNING') await this.stopContainer(containerId, 0);
    if (c.cgroup) await this.cgroups.remove(c.cgroup).catch(() => undefined);
    this.containers.delete(containerId);
    this.live.delete(containerId);
    this.cpuSamples.delete(containerId);
    await this.removeCreatedPaths(c);
    await removeContainerLogs(c.logPath);
    await this.records.removeDir(join(this.containerDir(containerId), 'container.json'), this.containerDir(containerId));
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return { ...this.container(containerId).status };
  }

  async listContainers(filter: { sandboxId?: string } = {}): Promise<ContainerStatus[]> {
    if (filter.sandboxId) this.sandbox(filter.sandboxId);
    const list = filter.sandboxId ? this.containersOf(filter.sandboxId) : [...this.containers.values()];
    return list.map((c) => ({ ...c.status })).sort((a, b) => a.createdAt - b.createdAt);
  }

  // ---- logs, processes, exec, stats ----

  /** The container's current CRI log file (rotated ones sit beside it as <file>.<YYYYMMDD-hhmmss>). */
  logPath(containerId: string): string {
    return this.container(containerId).logPath;
  }

  /** The container's main process (its process group id), while it runs. */
  containerPid(containerId: string): number | undefined {
    const c = this.container(containerId);
    return c.status.state === 'CONTAINER_RUNNING' && sameProcess(c.pid, c.pidStart) ? c.pid : undefined;
  }

  /**
   * The argv (and env) that runs cmd inside a running container: its network, mount and
   * UTS namespaces, its cgroups, workingDir and user — what `kubectl exec` and exec
   * probes need. Undefined when the container does not run.
   */
  execCommand(containerId: string, cmd: string[]): { argv: string[]; env: Record<string, string> } | undefined {
    const c = this.container(containerId);
    const pid = this.containerPid(containerId);
    if (!pid) return undefined;
    const script = launcherScript({
      tools: this.tools,
      isolate: false,
      cgroupProcsFiles: c.cgroup ? this.cgroups.procsFiles(c.cgroup) : [],
      mounts: [],
      workingDir: c.config.workingDir,
      user: this.isolate ? c.user : undefined,
      startErrorFile: '/dev/null',
      command: cmd,
    });
    const argv: string[] = [];
    if (this.isolate && this.tools.nsenter) argv.push(this.tools.nsenter, `--target=${pid}`, '--mount', '--uts', '--net', '--');
    argv.push(this.tools.sh, '-c', script, 'skiff-exec', ...cmd);
    return { argv, env: { ...c.env } };
  }

  /** Runs cmd in the container and collects its output (exec probes, lifecycle hooks). */
  async execInContainer(containerId: string, cmd: string[], timeoutSeconds: number): Promise<ExecResult> {
    const c = this.container(containerId);
    const exec = this.execCommand(containerId, cmd);
    if (!exec) return { exitCode: 126, output: `container ${c.status.name} is not running` };
    return new Promise((resolve) => {
      const child = spawn(exec.argv[0], exec.argv.slice(1), { env: exec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      let size = 0;
      let timedOut = false;
      const collect = (d: Buffer) => {
        if (size >= maxExecOutput) return;
        chunks.push(d.subarray(0, maxExecOutput - size));
        size += Math.min(d.length, maxExecOutput - size);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      const timer =
        timeoutSeconds > 0
          ? setTimeout(() => {
              timedOut = true;
              try {
                process.kill(-child.pid!, 'SIGKILL');
              } catch {
                /* exited meanwhile */
              }
            }, timeoutSeconds * 1000)
          : undefined;
      child.once('error', (err) => {
        clearTimeout(timer);
        resolve({ exitCode: 126, output: err.message });
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const exitCode = code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128);
        const result: ExecResult = { exitCode, output: Buffer.concat(chunks).toString('utf8') };
        if (timedOut) result.timedOut = true;
        resolve(result);
      });
    });
  }

  // ---- streaming (kubectl logs, exec, attach, port-forward) ----

  /** The container's log as kubelet serves it; a follow ends once the container has exited. */
  logs(containerId: string, opts: LogOptions): Readable {
    const c = this.container(containerId);
    return readCriLog(c.logPath, opts, { isRunning: () => this.containers.get(containerId)?.status.state === 'CONTAINER_RUNNING' });
  }

  /** `kubectl exec`: cmd in the container's namespaces, cgroups and user, with the client's streams (and a TTY when asked). */
  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<number> {
    const c = this.container(containerId);
    const e = this.execCommand(containerId, cmd);
    if (!e) throw new ContainerNotRunningError(containerId, c.status.state);
    return runHostCommand(cmd, io, { argvPrefix: e.argv.slice(0, e.argv.length - cmd.length), env: e.env });
  }

  /**
   * `kubectl attach`: the container's output from now on, until it exits or the client
   * leaves; with spec.stdin the client's input goes to the container (through skiff-shim's
   * FIFO), with spec.tty on its terminal, resized as the client's is.
   */
  async attach(containerId: string, io: StreamIO): Promise<void> {
    const c = this.container(containerId);
    if (c.status.state !== 'CONTAINER_RUNNING') throw new ContainerNotRunningError(containerId, c.status.state);
    const abort = new AbortController();
    io.signal?.addEventListener('abort', () => abort.abort(), { once: true });
    const dir = this.containerDir(containerId);
    const control = (line: string) => {
      const fd = openFifoWriter(join(dir, 'ctl'));
      if (fd === undefined) return;
      try {
        writeSync(fd, `${line}\n`);
      } catch {
        /* the shim is gone */
      } finally {
        closeSync(fd);
      }
    };
    const inputFd = c.config.stdin && io.stdin ? openFifoWriter(join(dir, 'stdin')) : undefined;
    const input = inputFd === undefined ? undefined : createWriteStream('', { fd: inputFd });
    if (input && io.stdin) {
      input.on('error', () => undefined);
      io.stdin.pipe(input, { end: false });
      io.stdin.once('end', () => {
        input.end();
        // stdinOnce: the container's stdin closes when the first attacher's does (kubectl run -i).
        if (c.config.stdinOnce) control('eof');
      });
    } else io.stdin?.resume();
    if (c.config.tty && io.tty) io.onResize?.((size) => control(`resize ${size.height} ${size.width}`));
    const out = this.logs(containerId, { follow: true, tailLines: 0, signal: abort.signal });
    const sink = io.stdout ?? io.stderr;
    await new Promise<void>((resolve) => {
      out.on('data', (chunk: Buffer) => sink?.write(chunk));
      out.once('end', () => resolve());
      out.once('error', () => resolve());
      out.once('close', () => resolve());
      abort.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (input && io.stdin) io.stdin.unpipe(input);
    input?.end();
  }

  /** `kubectl port-forward`: a connection to localhost:port inside the pod's network namespace. */
  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const s = this.sandbox(sandboxId);
    if (s.state !== 'SANDBOX_READY') throw new Error(`pod sandbox ${sandboxId} is not ready`);
    const netns = this.sandboxNetnsPath(sandboxId);
    return netns ? dialInNetns(netns, port) : dialTcp('127.0.0.1', port);
  }

  /** CPU and memory of a running container from its cgroup; undefined without cgroups or when not running. */
  async stats(containerId: string): Promise<ContainerStats | undefined> {
    const c = this.container(containerId);
    if (c.status.state !== 'CONTAINER_RUNNING' || !c.cgroup) return undefined;
    const st = await this.cgroups.stats(c.cgroup);
    if (!st) return undefined;
    const now = this.clock();
    const prev = this.cpuSamples.get(containerId);
    let nanoCores = prev?.nanoCores ?? 0;
    // usageNanoCores is a rate: measured over at least a second, like cAdvisor's housekeeping.
    if (!prev || now - prev.at >= 1000) {
      const from = prev ?? { at: c.status.startedAt ?? now, usage: 0 };
      const elapsedNs = (now - from.at) * 1e6;
      nanoCores = elapsedNs > 0 ? Math.max(0, Math.round(((st.cpuUsageNanoSeconds - from.usage) * 1e9) / elapsedNs)) : 0;
      this.cpuSamples.set(containerId, { at: now, usage: st.cpuUsageNanoSeconds, nanoCores });
    }
    return {
      timestamp: now,
      cpu: { usageCoreNanoSeconds: st.cpuUsageNanoSeconds, usageNanoCores: nanoCores },
      memory: { workingSetBytes: st.workingSetBytes, usageBytes: st.memoryUsageBytes, rssBytes: st.rssBytes },
    };
  }

  // ---- lifecycle ----

  /** Stops watching (timers, listeners); containers keep running for the next agent. */
  close(): void {
    this.closed = true;
    this.hostPorts.stopAll();
    clearInterval(this.relistTimer);
    this.listeners.clear();
  }

  /** Removes every sandbox this runtime holds (node teardown, tests). */
  async removeAll(): Promise<void> {
    const ids = [...this.sandboxes.keys()];
    const worker = async () => {
      for (let id = ids.pop(); id !== undefined; id = ids.pop()) await this.removePodSandbox(id);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  /** Deletes the node bridge unless a pod is still plugged into it; true when it is gone. */
  async removeBridge(): Promise<boolean> {
    return this.network ? this.network.removeBridge() : true;
  }

  /** Deletes the (empty) cgroup parent of all pods. */
  async removeCgroupParent(): Promise<void> {
    if (this.cgroups.mode !== 'none') await this.cgroups.removeParent().catch((err) => this.log({ level: 'warn', msg: 'cannot remove cgroup parent', error: errorMessage(err) }));
  }
}

/** A FIFO the shim reads, opened without blocking: undefined when nobody reads it (no shim, no stdin). */
function openFifoWriter(path: string): number | undefined {
  try {
    return openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function statSyncSafe(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
