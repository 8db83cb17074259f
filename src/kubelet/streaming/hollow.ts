/**
 * @module Streaming for hollow nodes: wraps a hollow runtime (or any PodRuntime) and gives
 * its containers something to stream without running anything real.
 *   - logs: what a hollow container "prints", kept in memory — a line when it starts, a
 *     `tick N` line every `hollow.skiff.dev/log-interval-ms` ms while it runs (pod
 *     annotation), whatever is written to its stdin through `kubectl attach -i` (for
 *     containers with `stdin: true`: a hollow container behaves like `cat`), and a line
 *     when it exits or is stopped;
 *   - exec: the command runs as a process on this host (argv as given, no shell), with the
 *     container's env — good enough to exercise the protocols, not isolation;
 *   - attach: the container's output from now on, until it exits;
 *   - port-forward: connects to 127.0.0.1:<port> on this host, so a test can serve a port
 *     itself and reach it through `kubectl port-forward`.
 */
import type { Duplex } from 'node:stream';
import {
  RuntimeNotFoundError,
  type ContainerConfig,
  type ContainerStatus,
  type PodRuntime,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type PulledImage,
  type RuntimeEvent,
} from '../runtime.js';
import { defaultExecPath, dialTcp, runHostCommand, type ExecTarget } from './host-exec.js';
import { MemoryLog } from './logs.js';
import { ContainerNotRunningError, type LogOptions, type StreamIO, type StreamingRuntime } from './types.js';

/** Pod annotation: a hollow container logs a `tick N` line this often (ms) while it runs. */
export const hollowLogIntervalAnnotation = 'hollow.skiff.dev/log-interval-ms';

interface HollowContainerRecord {
  sandboxId: string;
  config: ContainerConfig;
  log: MemoryLog;
  ticker?: NodeJS.Timeout;
  ticks: number;
}

export interface HollowStreamingOptions {
  now?: () => number;
  /** Where exec'd commands run (default: on the host with the container's env). */
  execTarget?: (containerId: string, config: ContainerConfig, sandbox: PodSandboxConfig | undefined) => ExecTarget;
  /** Port-forward target host (default 127.0.0.1). */
  portForwardHost?: string;
}

export class HollowStreamingRuntime implements PodRuntime, StreamingRuntime {
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  private readonly sandboxes = new Map<string, PodSandboxConfig>();
  private readonly containers = new Map<string, HollowContainerRecord>();
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  constructor(
    readonly inner: PodRuntime & { close?(): void },
    private readonly opts: HollowStreamingOptions = {},
  ) {
    this.runtimeName = inner.runtimeName;
    this.runtimeVersion = inner.runtimeVersion;
    this.now = opts.now ?? Date.now;
    this.unsubscribe = inner.subscribe((ev) => {
      if (ev.type === 'ContainerDied' && ev.containerId) void this.noteExit(ev.containerId);
    });
    // Whatever this wrapper does not intercept (simulated, execInContainer, and members the
    // runtime interface gains later) is the wrapped runtime's, so wrapping hides nothing.
    return new Proxy(this, {
      get: (target, prop, receiver) => {
        if (prop in target) return Reflect.get(target, prop, receiver);
        const v = Reflect.get(inner, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(inner) : v;
      },
    });
  }

  // ---- PodRuntime, passed through with bookkeeping ----

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = await this.inner.runPodSandbox(config);
    this.sandboxes.set(id, config);
    return id;
  }

  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    return this.inner.podSandboxStatus(sandboxId);
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.inner.stopPodSandbox(sandboxId);
    for (const [id, c] of this.containers) if (c.sandboxId === sandboxId) await this.noteExit(id);
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    await this.inner.removePodSandbox(sandboxId);
    for (const [id, c] of this.containers) {
      if (c.sandboxId !== sandboxId) continue;
      this.finish(c);
      this.containers.delete(id);
    }
    this.sandboxes.delete(sandboxId);
  }

  pullImage(image: string): Promise<PulledImage> {
    return this.inner.pullImage(image);
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const id = await this.inner.createContainer(sandboxId, config);
    this.containers.set(id, { sandboxId, config, log: new MemoryLog({}, this.now), ticks: 0 });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.inner.startContainer(containerId);
    const c = this.containers.get(containerId);
    if (!c) return;
    const status = await this.inner.containerStatus(containerId).catch(() => undefined);
    const cmdline = [...(c.config.command ?? []), ...(c.config.args ?? [])].join(' ');
    c.log.append('stdout', `hollow container "${c.config.name}" started: ${cmdline || c.config.image}\n`);
    if (status?.state !== 'CONTAINER_RUNNING') {
      // Init containers exit the moment they start.
      if (status?.state === 'CONTAINER_EXITED') this.noteExited(c, status);
      return;
    }
    const interval = Number(this.sandboxes.get(c.sandboxId)?.annotations?.[hollowLogIntervalAnnotation]);
    if (Number.isFinite(interval) && interval > 0) {
      c.ticker = setInterval(() => c.log.append('stdout', `hollow container "${c.config.name}" tick ${++c.ticks}\n`), Math.max(10, interval));
      c.ticker.unref?.();
    }
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.inner.stopContainer(containerId, timeoutSeconds);
    await this.noteExit(containerId);
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.inner.removeContainer(containerId);
    const c = this.containers.get(containerId);
    if (c) this.finish(c);
    this.containers.delete(containerId);
  }

  containerStatus(containerId: string): Promise<ContainerStatus> {
    return this.inner.containerStatus(containerId);
  }

  listContainers(filter?: { sandboxId?: string }): Promise<ContainerStatus[]> {
    return this.inner.listContainers(filter);
  }

  subscribe(listener: (ev: RuntimeEvent) => void): () => void {
    return this.inner.subscribe(listener);
  }

  /** Stops tickers and the wrapped runtime. */
  close(): void {
    this.unsubscribe();
    for (const c of this.containers.values()) this.finish(c);
    this.inner.close?.();
  }

  private async noteExit(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c || c.log.closed) return;
    const status = await this.inner.containerStatus(containerId).catch(() => undefined);
    if (status && status.state !== 'CONTAINER_EXITED') return;
    this.noteExited(c, status);
  }

  private noteExited(c: HollowContainerRecord, status: ContainerStatus | undefined): void {
    if (c.log.closed) return;
    c.log.append('stdout', `hollow container "${c.config.name}" exited with code ${status?.exitCode ?? 0}\n`);
    this.finish(c);
  }

  private finish(c: HollowContainerRecord): void {
    clearInterval(c.ticker);
    c.ticker = undefined;
    c.log.close();
  }

  private record(containerId: string): HollowContainerRecord {
    const c = this.containers.get(containerId);
    if (!c) throw new RuntimeNotFoundError('container', containerId);
    return c;
  }

  private async running(containerId: string): Promise<HollowContainerRecord> {
    const c = this.record(containerId);
    const status = await this.inner.containerStatus(containerId);
    if (status.state !== 'CONTAINER_RUNNING') throw new ContainerNotRunningError(containerId, status.state);
    return c;
  }

  // ---- StreamingRuntime ----

  logs(containerId: string, opts: LogOptions) {
    return this.record(containerId).log.read(opts);
  }

  async exec(containerId: string, cmd: string[], io: StreamIO): Promise<number> {
    const c = await this.running(containerId);
    const sandbox = this.sandboxes.get(c.sandboxId);
    const target = this.opts.execTarget?.(containerId, c.config, sandbox) ?? {
      env: {
        PATH: defaultExecPath,
        HOME: '/root',
        HOSTNAME: sandbox?.hostname ?? sandbox?.name ?? 'hollow',
        ...Object.fromEntries((c.config.env ?? []).map((e) => [e.name, e.value])),
      },
      cwd: '/',
    };
    return runHostCommand(cmd, io, target);
  }

  async attach(containerId: string, io: StreamIO): Promise<void> {
    const c = await this.running(containerId);
    const done: Array<Promise<void>> = [];
    if (io.stdin) {
      const stdin = io.stdin;
      done.push(
        new Promise<void>((resolve) => {
          stdin.on('data', (d: Buffer) => {
            if (c.config.stdin) c.log.append('stdout', d);
          });
          stdin.once('end', () => resolve());
          stdin.once('close', () => resolve());
        }),
      );
    }
    if (io.stdout) {
      const abort = new AbortController();
      io.signal?.addEventListener('abort', () => abort.abort(), { once: true });
      const out = c.log.read({ follow: true, tailLines: 0, signal: abort.signal });
      const stdout = io.stdout;
      await new Promise<void>((resolve) => {
        out.on('data', (chunk: Buffer) => stdout.write(chunk));
        out.once('end', () => resolve());
        out.once('error', () => resolve());
        out.once('close', () => resolve());
      });
      return;
    }
    // Only stdin: the session lasts until the client closes it or the container exits.
    await Promise.race([Promise.all(done), c.log.whenClosed()]);
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const status = await this.inner.podSandboxStatus(sandboxId);
    if (status.state !== 'SANDBOX_READY') throw new Error(`pod sandbox ${sandboxId} is not ready`);
    return dialTcp(this.opts.portForwardHost ?? '127.0.0.1', port);
  }
}
