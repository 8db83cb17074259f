/**
 * @module One pod's worker, in kubelet's pod_workers shape: an explicit state machine
 * syncing → terminating → terminated, one pass at a time per pod, retried with backoff
 * until it succeeds. Syncing runs the sandbox, init containers in order, then the
 * containers (restarting them per restartPolicy with CrashLoopBackOff), and reports
 * status; terminating stops containers with the grace period; terminated finishes a
 * graceful deletion by deleting the pod with gracePeriodSeconds 0.
 */
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { isRestartableInitContainer } from '../api/kinds/podspec.js';
import { Resources, type Client, type EventRecorder } from '../client/index.js';
import type { Limiter } from './limiter.js';
import { generatePodStatus, latestAttempts, sameJson, statusUpToDate, type WaitingOverride } from './pod-status.js';
import { RuntimeNotFoundError, type ContainerConfig, type ContainerRole, type ContainerStatus, type PodRuntime, type PodSandboxConfig } from './runtime.js';

export type PodWorkerState = 'syncing' | 'terminating' | 'terminated';

/** What a worker needs from its node agent. */
export interface PodWorkerHost {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly runtime: PodRuntime;
  readonly client: Client;
  readonly limiter: Limiter;
  /** Write a ContainerCreating status before the sandbox starts (kubelet's first status). */
  readonly reportPendingStatus: boolean;
  readonly paused: boolean;
  now(): Date;
  recorder(): EventRecorder | undefined;
  log(msg: Record<string, unknown>): void;
  isContainerReady?(pod: KObject, c: ContainerStatus): boolean;
  /** Indexes the sandbox so runtime events reach this worker. */
  sandboxStarted(worker: PodWorker, sandboxId: string): void;
  /** The worker is done with the pod: deleted from the API and its sandbox removed. */
  forget(worker: PodWorker): void;
}

/** kubelet's container restart backoff: 10 s doubling to 5 min, reset after 10 min of running. */
export const restartBackoff = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

const retryBackoff = { initialMs: 500, maxMs: 30_000 };

function specList(v: unknown): KObject[] {
  return Array.isArray(v) ? (v as KObject[]) : [];
}

function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

export class PodWorker {
  state: PodWorkerState = 'syncing';
  /** Set when the pod has left the API (deleted or force-deleted). */
  deleted = false;
  sandboxId?: string;
  private sandboxAttempt = 0;
  private running = false;
  private dirty = false;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = 0;
  private readonly backoff = new Map<string, { delayMs: number; until: number }>();
  private backoffTimer?: NodeJS.Timeout;
  private lastWritten?: { status: KObject; resourceVersion: number };
  private pendingReported = false;
  private finished = false;

  constructor(
    private readonly host: PodWorkerHost,
    public pod: KObject,
  ) {}

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get key(): string {
    return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`;
  }

  /** A newer version of the pod from the API server. */
  update(pod: KObject): void {
    this.pod = pod;
    this.kick();
  }

  /** The pod is gone from the API server: stop whatever still runs, then forget it. */
  markDeleted(): void {
    this.deleted = true;
    this.kick();
  }

  /** Schedules a pass; passes never overlap, and a kick during one runs another after it. */
  kick(): void {
    if (this.finished) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  /** Drops timers (agent shutdown). */
  stop(): void {
    this.finished = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.backoffTimer);
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        if (this.host.paused || this.finished) break;
        try {
          await this.pass();
          this.retryMs = 0;
        } catch (err) {
          this.retryMs = Math.min(retryBackoff.maxMs, this.retryMs ? this.retryMs * 2 : retryBackoff.initialMs);
          this.host.log({ level: 'warn', msg: 'pod sync failed', pod: this.key, state: this.state, error: String(err), retryMs: this.retryMs });
          clearTimeout(this.retryTimer);
          this.retryTimer = setTimeout(() => this.kick(), this.retryMs);
          this.retryTimer.unref?.();
          break;
        }
      } while (this.dirty);
    } finally {
      this.running = false;
    }
  }

  private async pass(): Promise<void> {
    if (this.state === 'syncing') {
      const phase = this.pod.status?.phase;
      // The API's terminal phase is final: kubelet never runs a Succeeded/Failed pod again.
      if (this.deleted || this.pod.metadata?.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') this.state = 'terminating';
      else {
        const phase = await this.syncPod();
        if (phase !== 'Succeeded' && phase !== 'Failed') return;
        this.state = 'terminating';
      }
    }
    if (this.state === 'terminating') {
      await this.terminatePod();
      this.state = 'terminated';
    }
    await this.finishPod();
  }

  // ---- syncing ----

  private sandboxConfig(): PodSandboxConfig {
    const meta = this.pod.metadata ?? {};
    const spec = this.pod.spec ?? {};
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? '',
      uid: meta.uid ?? '',
      attempt: this.sandboxAttempt,
      hostname: spec.hostname || meta.name,
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      restartPolicy: spec.restartPolicy ?? 'Always',
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? 30,
    };
  }

  /** One level-triggered sync; returns the phase it reported. */
  private async syncPod(): Promise<string> {
    const { runtime } = this.host;
    if (!this.sandboxId && this.host.reportPendingStatus && !this.pendingReported && !this.pod.status?.containerStatuses) {
      this.pendingReported = true;
      await this.writeStatus(generatePodStatus(this.statusInput(undefined, [], new Map())));
    }
    if (!this.sandboxId) {
      this.sandboxId = await runtime.runPodSandbox(this.sandboxConfig());
      this.sandboxAttempt++;
      this.host.sandboxStarted(this, this.sandboxId);
    }
    const sandboxId = this.sandboxId;
    const waiting = new Map<string, WaitingOverride>();
    const attempts = latestAttempts(await runtime.listContainers({ sandboxId }));
    const restartPolicy: string = this.pod.spec?.restartPolicy ?? 'Always';
    const now = this.host.now().getTime();

    let initDone = true;
    for (const spec of specList(this.pod.spec?.initContainers)) {
      const a = attempts.get(spec.name);
      if (isRestartableInitContainer(spec)) {
        if (!a) await this.startContainer(spec, 'sidecar', 0);
        else if (a.latest.state === 'CONTAINER_EXITED') await this.restartOrWait(spec, 'sidecar', a.latest, now, waiting);
        continue;
      }
      if (!a) {
        await this.startContainer(spec, 'init', 0);
        initDone = false;
        break;
      }
      if (a.latest.state !== 'CONTAINER_EXITED') {
        initDone = false;
        break;
      }
      if ((a.latest.exitCode ?? 0) === 0) continue;
      initDone = false;
      if (restartPolicy !== 'Never') await this.restartOrWait(spec, 'init', a.latest, now, waiting);
      break;
    }
    if (initDone) {
      for (const spec of specList(this.pod.spec?.containers)) {
        const a = attempts.get(spec.name);
        if (!a) {
          await this.startContainer(spec, 'regular', 0);
          continue;
        }
        if (a.latest.state !== 'CONTAINER_EXITED') continue;
        const failed = (a.latest.exitCode ?? 0) !== 0;
        if (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && failed)) await this.restartOrWait(spec, 'regular', a.latest, now, waiting);
      }
    }
    const [sandbox, containers] = await Promise.all([runtime.podSandboxStatus(sandboxId), runtime.listContainers({ sandboxId })]);
    const status = generatePodStatus(this.statusInput(sandbox, containers, waiting));
    await this.writeStatus(status);
    return status.phase;
  }

  private statusInput(sandbox: Awaited<ReturnType<PodRuntime['podSandboxStatus']>> | undefined, containers: ContainerStatus[], waiting: Map<string, WaitingOverride>, terminated = false) {
    const ready = this.host.isContainerReady;
    return {
      pod: this.pod,
      sandbox,
      containers,
      runtimeName: this.host.runtime.runtimeName,
      hostIP: this.host.hostIP,
      now: this.host.now(),
      waiting,
      isReady: ready ? (c: ContainerStatus) => ready.call(this.host, this.pod, c) : undefined,
      terminated,
    };
  }

  /** Restarts an exited container unless it is in CrashLoopBackOff, which it then reports. */
  private async restartOrWait(spec: KObject, role: ContainerRole, last: ContainerStatus, now: number, waiting: Map<string, WaitingOverride>): Promise<void> {
    const b = this.backoff.get(spec.name);
    const ranLong = last.startedAt !== undefined && (last.finishedAt ?? now) - last.startedAt > restartBackoff.resetAfterMs;
    if (!b || ranLong || now >= b.until) {
      const delayMs = !b || ranLong ? restartBackoff.initialMs : Math.min(restartBackoff.maxMs, b.delayMs * 2);
      this.backoff.set(spec.name, { delayMs, until: now + delayMs });
      await this.startContainer(spec, role, last.attempt + 1);
      return;
    }
    const meta = this.pod.metadata ?? {};
    const podRef = `${meta.name}_${meta.namespace}(${meta.uid})`;
    waiting.set(spec.name, { reason: 'CrashLoopBackOff', message: `back-off ${Math.round(b.delayMs / 1000)}s restarting failed container=${spec.name} pod=${podRef}` });
    this.host.recorder()?.event(this.pod, 'Warning', 'BackOff', `Back-off restarting failed container ${spec.name} in pod ${podRef}`);
    clearTimeout(this.backoffTimer);
    this.backoffTimer = setTimeout(() => this.kick(), Math.max(0, b.until - now) + 5);
    this.backoffTimer.unref?.();
  }

  private async startContainer(spec: KObject, role: ContainerRole, attempt: number): Promise<void> {
    const { runtime } = this.host;
    const recorder = this.host.recorder();
    const pulled = await runtime.pullImage(spec.image);
    recorder?.event(this.pod, 'Normal', 'Pulled', pulled.pulled ? `Successfully pulled image "${spec.image}"` : `Container image "${spec.image}" already present on machine`);
    const meta = this.pod.metadata ?? {};
    const config: ContainerConfig = {
      name: spec.name,
      image: spec.image,
      command: spec.command,
      args: spec.args,
      env: specList(spec.env)
        .filter((e) => typeof e.value === 'string')
        .map((e) => ({ name: e.name, value: e.value })),
      workingDir: spec.workingDir,
      attempt,
      role,
      labels: {
        'io.kubernetes.pod.name': meta.name ?? '',
        'io.kubernetes.pod.namespace': meta.namespace ?? '',
        'io.kubernetes.pod.uid': meta.uid ?? '',
        'io.kubernetes.container.name': spec.name,
      },
      annotations: { 'io.kubernetes.container.restartCount': String(attempt) },
      tty: spec.tty,
      stdin: spec.stdin,
    };
    const id = await runtime.createContainer(this.sandboxId!, config);
    recorder?.event(this.pod, 'Normal', 'Created', `Created container: ${spec.name}`);
    await runtime.startContainer(id);
    recorder?.event(this.pod, 'Normal', 'Started', `Started container ${spec.name}`);
  }

  // ---- terminating ----

  /** Stops every container with the pod's grace period, then the sandbox. */
  private async terminatePod(): Promise<void> {
    clearTimeout(this.backoffTimer);
    const sandboxId = this.sandboxId;
    if (!sandboxId) return;
    const { runtime } = this.host;
    const meta = this.pod.metadata ?? {};
    const grace: number = meta.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    let containers: ContainerStatus[];
    try {
      containers = await runtime.listContainers({ sandboxId });
    } catch (err) {
      if (err instanceof RuntimeNotFoundError) return;
      throw err;
    }
    const live = containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED');
    await Promise.all(
      live.map(async (c) => {
        if (c.state === 'CONTAINER_RUNNING') this.host.recorder()?.event(this.pod, 'Normal', 'Killing', `Stopping container ${c.name}`);
        await runtime.stopContainer(c.id, grace);
      }),
    );
    await runtime.stopPodSandbox(sandboxId);
  }

  // ---- terminated ----

  private async finishPod(): Promise<void> {
    const { runtime, client } = this.host;
    if (this.deleted) {
      if (this.sandboxId) {
        try {
          await runtime.removePodSandbox(this.sandboxId);
        } catch (err) {
          if (!(err instanceof RuntimeNotFoundError)) throw err;
        }
        this.sandboxId = undefined;
      }
      this.stop();
      this.host.forget(this);
      return;
    }
    const meta = this.pod.metadata ?? {};
    if (!meta.deletionTimestamp) return;
    // Pods held by finalizers outlive this delete; their terminal phase is what controllers read.
    if (meta.finalizers?.length && this.sandboxId) {
      const [sandbox, containers] = await Promise.all([runtime.podSandboxStatus(this.sandboxId), runtime.listContainers({ sandboxId: this.sandboxId })]);
      await this.writeStatus(generatePodStatus(this.statusInput(sandbox, containers, new Map(), true)));
    }
    try {
      await this.host.limiter.run(() => client.delete(Resources.pods, meta.namespace, meta.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } }));
    } catch (err) {
      // Gone, or a new pod of the same name (uid precondition): either way not ours to delete.
      if (isGone(err) || (err instanceof ApiError && err.code === 409)) return;
      throw err;
    }
  }

  // ---- status ----

  private async writeStatus(status: KObject): Promise<void> {
    if (statusUpToDate(this.pod.status, status)) return;
    const rv = Number(this.pod.metadata?.resourceVersion ?? 0);
    // Our own last write may not have reached the cache yet: do not repeat it.
    if (this.lastWritten && rv <= this.lastWritten.resourceVersion && sameJson(this.lastWritten.status, status)) return;
    const meta = this.pod.metadata ?? {};
    try {
      const written = await this.host.limiter.run(() =>
        this.host.client.patch(Resources.pods, meta.namespace, meta.name ?? '', 'merge', { status }, { subresource: 'status' }),
      );
      if (written.metadata?.uid !== meta.uid) return;
      this.lastWritten = { status, resourceVersion: Number(written.metadata?.resourceVersion ?? 0) };
    } catch (err) {
      if (isGone(err)) return;
      throw err;
    }
  }
}
