/**
 * @module The hollow runtime: a PodRuntime that runs nothing. Sandboxes take
 * `podStartupMs` to come up and get an address from the node's pod CIDR; containers
 * run until stopped, except as the pod asks through annotations (kwok's stages as data):
 *   - init containers exit 0 as soon as they start;
 *   - `hollow.skiff.dev/run-ms: "N"`: regular containers exit N ms after starting
 *     (default: never for restartPolicy Always pods, podStartupMs for the others, so
 *     Job pods complete);
 *   - `hollow.skiff.dev/exit-code: "N"`: the code they exit with (default 0).
 * Containers stopped by the agent exit 143 (SIGTERM). Nothing listens at a hollow pod's
 * address, so the runtime is `simulated`: probes pass unless the pod annotation
 * `hollow.skiff.dev/probe-fail` names their type (see probes/handler.ts), exec succeeds.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  RuntimeNotFoundError,
  type ContainerConfig,
  type ContainerStatus,
  type ExecResult,
  type PodRuntime,
  type PodSandboxConfig,
  type PodSandboxStatus,
  type PulledImage,
  type RuntimeEvent,
} from '../runtime.js';

export const hollowRunMsAnnotation = 'hollow.skiff.dev/run-ms';
export const hollowExitCodeAnnotation = 'hollow.skiff.dev/exit-code';

export interface HollowRuntimeOptions {
  /** "10.42.3.0/24": sandbox addresses come from .2 upwards. */
  podCIDR: string;
  podStartupMs: number;
  now?: () => number;
}

interface Sandbox {
  id: string;
  config: PodSandboxConfig;
  ip: string;
  ready: boolean;
  createdAt: number;
  containers: Set<string>;
}

interface Container extends ContainerStatus {
  timer?: NodeJS.Timeout;
}

const digests = new Map<string, string>();

/** containerd's normalized name: "nginx" → "docker.io/library/nginx:latest". */
export function normalizeImage(image: string): string {
  let ref = image;
  const at = ref.indexOf('@');
  let digest = '';
  if (at >= 0) {
    digest = ref.slice(at);
    ref = ref.slice(0, at);
  }
  const firstSlash = ref.indexOf('/');
  const first = firstSlash < 0 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = firstSlash >= 0 && (/[.:]/.test(first) || first === 'localhost');
  if (!hasRegistry) ref = firstSlash < 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
  const lastSlash = ref.lastIndexOf('/');
  if (!digest && ref.lastIndexOf(':') <= lastSlash) ref += ':latest';
  return ref + digest;
}

/** A stable fake digest reference for an image ("docker.io/library/nginx@sha256:…"). */
export function imageRef(image: string): string {
  let ref = digests.get(image);
  if (!ref) {
    const normalized = normalizeImage(image);
    if (normalized.includes('@')) ref = normalized;
    else {
      const repo = normalized.slice(0, normalized.lastIndexOf(':'));
      ref = `${repo}@sha256:${createHash('sha256').update(normalized).digest('hex')}`;
    }
    if (digests.size < 10_000) digests.set(image, ref);
  }
  return ref;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

export class HollowRuntime implements PodRuntime {
  readonly runtimeName = 'hollow';
  readonly runtimeVersion = 'hollow://1.0';
  /** Nothing listens at a hollow pod's address: the agent simulates network probes. */
  readonly simulated = true;
  private readonly sandboxes = new Map<string, Sandbox>();
  private readonly containers = new Map<string, Container>();
  private readonly listeners = new Set<(ev: RuntimeEvent) => void>();
  private readonly usedIPs = new Set<number>();
  private readonly base: string;
  private nextIP = 2;
  private readonly clock: () => number;
  private readonly startupTimers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: HollowRuntimeOptions) {
    this.base = opts.podCIDR.split('/')[0].split('.').slice(0, 3).join('.');
    this.clock = opts.now ?? Date.now;
  }

  subscribe(listener: (ev: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(ev: RuntimeEvent): void {
    for (const l of this.listeners) l(ev);
  }

  private allocateIP(): string {
    for (let i = 0; i < 253; i++) {
      const n = ((this.nextIP - 2 + i) % 253) + 2;
      if (!this.usedIPs.has(n)) {
        this.usedIPs.add(n);
        this.nextIP = n + 1;
        return `${this.base}.${n}`;
      }
    }
    throw new Error(`no free address in ${this.opts.podCIDR}`);
  }

  private releaseIP(ip: string): void {
    this.usedIPs.delete(Number(ip.split('.')[3]));
  }

  private sandbox(id: string): Sandbox {
    const s = this.sandboxes.get(id);
    if (!s) throw new RuntimeNotFoundError('sandbox', id);
    return s;
  }

  private container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeNotFoundError('container', id);
    return c;
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.startupTimers.delete(t);
        resolve();
      }, ms);
      t.unref?.();
      this.startupTimers.add(t);
    });
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    const ip = this.allocateIP();
    const sandbox: Sandbox = { id, config, ip, ready: false, createdAt: this.clock(), containers: new Set() };
    this.sandboxes.set(id, sandbox);
    // Sandbox, network and image pulls are where a real pod's startup time goes.
    await this.delay(this.opts.podStartupMs);
    sandbox.ready = !this.closed;
    return id;
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus> {
    const s = this.sandbox(sandboxId);
    return { id: s.id, state: s.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY', ip: s.ready ? s.ip : '', createdAt: s.createdAt };
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const s = this.sandboxes.get(sandboxId);
    if (!s) return;
    for (const id of s.containers) this.exit(this.containers.get(id), 137, 'Error', false);
    if (s.ready) this.releaseIP(s.ip);
    s.ready = false;
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    const s = this.sandboxes.get(sandboxId);
    if (!s) return;
    await this.stopPodSandbox(sandboxId);
    for (const id of s.containers) this.containers.delete(id);
    this.sandboxes.delete(sandboxId);
  }

  async pullImage(image: string): Promise<PulledImage> {
    return { imageRef: imageRef(image), pulled: false };
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const s = this.sandbox(sandboxId);
    const id = newId();
    this.containers.set(id, {
      id,
      sandboxId,
      name: config.name,
      attempt: config.attempt,
      role: config.role,
      state: 'CONTAINER_CREATED',
      image: normalizeImage(config.image),
      imageRef: imageRef(config.image),
      createdAt: this.clock(),
    });
    s.containers.add(id);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_CREATED') return;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = this.clock();
    const runMs = this.runTime(c);
    if (runMs !== undefined) {
      const code = this.exitCode(c);
      c.timer = setTimeout(() => this.exit(c, code, code === 0 ? 'Completed' : 'Error', true), runMs);
      c.timer.unref?.();
    }
    this.emit({ type: 'ContainerStarted', sandboxId: c.sandboxId, containerId });
  }

  /** How long a container runs before exiting on its own; undefined: until stopped. */
  private runTime(c: Container): number | undefined {
    const s = this.sandboxes.get(c.sandboxId);
    if (!s) return undefined;
    if (c.role === 'init') return 0;
    const annotated = s.config.annotations[hollowRunMsAnnotation];
    if (annotated !== undefined && annotated !== '' && Number.isFinite(Number(annotated))) {
      const ms = Number(annotated);
      return ms < 0 ? undefined : ms;
    }
    if (c.role === 'regular' && s.config.restartPolicy !== 'Always') return this.opts.podStartupMs;
    return undefined;
  }

  private exitCode(c: Container): number {
    if (c.role === 'init') return 0;
    const v = this.sandboxes.get(c.sandboxId)?.config.annotations[hollowExitCodeAnnotation];
    const n = Number(v);
    return v !== undefined && Number.isInteger(n) ? n : 0;
  }

  private exit(c: Container | undefined, exitCode: number, reason: string, notify: boolean): void {
    if (!c || c.state === 'CONTAINER_EXITED') return;
    clearTimeout(c.timer);
    c.timer = undefined;
    if (c.state === 'CONTAINER_RUNNING') c.startedAt ??= this.clock();
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = this.clock();
    c.exitCode = exitCode;
    c.reason = reason;
    if (notify) this.emit({ type: 'ContainerDied', sandboxId: c.sandboxId, containerId: c.id });
  }

  async stopContainer(containerId: string, _timeoutSeconds: number): Promise<void> {
    // A hollow process honours SIGTERM at once.
    this.exit(this.container(containerId), 143, 'Error', false);
  }

  /** Exec probes and hooks: a hollow command succeeds at once, with no output. */
  async execInContainer(containerId: string, _cmd: string[], _timeoutSeconds: number): Promise<ExecResult> {
    const c = this.container(containerId);
    if (c.state !== 'CONTAINER_RUNNING') return { exitCode: 126, output: `container ${containerId} is not running` };
    return { exitCode: 0, output: '' };
  }

  async removeContainer(containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (!c) return;
    this.exit(c, 137, 'Error', false);
    this.containers.delete(containerId);
    this.sandboxes.get(c.sandboxId)?.containers.delete(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return snapshot(this.container(containerId));
  }

  async listContainers(filter: { sandboxId?: string } = {}): Promise<ContainerStatus[]> {
    if (filter.sandboxId) {
      const s = this.sandbox(filter.sandboxId);
      return [...s.containers].map((id) => snapshot(this.containers.get(id)!));
    }
    return [...this.containers.values()].map(snapshot);
  }

  /** Sandboxes currently held (tests, metrics). */
  sandboxCount(): number {
    return this.sandboxes.size;
  }

  /** Drops every timer; containers freeze where they are. */
  close(): void {
    this.closed = true;
    for (const t of this.startupTimers) clearTimeout(t);
    this.startupTimers.clear();
    for (const c of this.containers.values()) clearTimeout(c.timer);
    this.listeners.clear();
  }
}

function snapshot(c: Container): ContainerStatus {
  const { timer: _timer, ...rest } = c;
  return { ...rest };
}
