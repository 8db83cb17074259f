/**
 * @module One pod's worker, in kubelet's pod_workers shape: an explicit state machine
 * syncing → terminating → terminated, one pass at a time per pod, retried with backoff
 * until it succeeds. Syncing runs the sandbox, init containers in order, then the
 * containers (restarting them per restartPolicy with CrashLoopBackOff), and reports
 * status; terminating stops containers with the grace period; terminated finishes a
 * graceful deletion by deleting the pod with gracePeriodSeconds 0. Before containers
 * start, the pod's volumes are set up and each container's environment and mounts are
 * resolved (CreateContainerConfigError when they cannot be); while they run, probes
 * decide readiness and liveness restarts; postStart and preStop hooks run around them.
 */
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { isRestartableInitContainer } from '../api/kinds/podspec.js';
import { Resources, realClock, type Client, type Clock, type EventRecorder } from '../client/index.js';
import { CreateContainerConfigError, containerEnvReferences, expandCommandAndArgs, makeEnvironmentVariables, type EnvVar, type ObjectSource } from './env/index.js';
import type { Limiter } from './limiter.js';
import { PodProbes, podHasProbes, runLifecycleHandler, type ProbeTarget } from './probes/index.js';
import type { VolumeManager, VolumeSetUpResult } from './volumes/index.js';
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
  /** ConfigMaps, Secrets, services and claims pods refer to (absent: literal env values only). */
  readonly objects?: ObjectSource;
  /** Pod volumes (absent: containers get no mounts). */
  readonly volumes?: VolumeManager;
  /** Time for probes and hooks (default: real time). */
  readonly probeClock?: Clock;
  /** Node allocatable, what unset limits mean to the downward API. */
  nodeAllocatable?(): Record<string, string>;
  /** Indexes the sandbox so runtime events reach this worker. */
  sandboxStarted(worker: PodWorker, sandboxId: string): void;
  /** The worker is done with the pod: deleted from the API and its sandbox removed. */
  forget(worker: PodWorker): void;
}

/** kubelet's container restart backoff: 10 s doubling to 5 min, reset after 10 min of running. */
export const restartBackoff = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

const retryBackoff = { initialMs: 500, maxMs: 30_000 };
/** Re-sync a pod whose volumes or container config are not ready yet (objects appearing also re-sync it at once). */
const waitBackoff = { initialMs: 1_000, maxMs: 10_000 };
/** kubelet's minimumGracePeriodInSeconds once a preStop hook has used up the grace period. */
const minimumGracePeriodSeconds = 2;

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
  /** Containers the runtime refused to create (CreateContainerError), retried with backoff. */
  private readonly createFailures = new Map<string, { reason: string; message: string; delayMs: number; until: number }>();
  private createRetryTimer?: NodeJS.Timeout;
  private lastWritten?: { status: KObject; resourceVersion: number };
  private pendingReported = false;
  private finished = false;
  private probes?: PodProbes;
  private podIP = '';
  private volumeState?: VolumeSetUpResult;
  private volumesTornDown = false;
  private waitTimer?: NodeJS.Timeout;
  private waitMs = 0;

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
    clearTimeout(this.createRetryTimer);
    clearTimeout(this.waitTimer);
    this.probes?.stop();
    this.probes = undefined;
    this.host.objects?.untrack(this.uid);
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
      hostNetwork: spec.hostNetwork === true,
      dnsPolicy: spec.dnsPolicy,
      dnsConfig: spec.dnsConfig,
      hostAliases: spec.hostAliases,
      subdomain: spec.subdomain,
      portMappings: [...(spec.initContainers ?? []), ...(spec.containers ?? [])].flatMap((c: KObject) =>
        ((c.ports ?? []) as KObject[])
          .filter((p) => Number(p.hostPort) > 0)
          .map((p) => ({ protocol: p.protocol ?? 'TCP', containerPort: Number(p.containerPort), hostPort: Number(p.hostPort), hostIP: p.hostIP || undefined })),
      ),
    };
  }

  /** One level-triggered sync; returns the phase it reported. */
  private async syncPod(): Promise<string> {
    const { runtime } = this.host;
    if (!this.sandboxId && this.host.reportPendingStatus && !this.pendingReported && !this.pod.status?.containerStatuses) {
      this.pendingReported = true;
      await this.writeStatus(generatePodStatus(this.statusInput(undefined, [], new Map())));
    }
    // kubelet's WaitForAttachAndMount: no sandbox before every volume is there.
    if (!(await this.setUpVolumes())) return this.pod.status?.phase ?? 'Pending';
    if (!this.sandboxId) {
      this.sandboxId = await runtime.runPodSandbox(this.sandboxConfig());
      this.sandboxAttempt++;
      this.host.sandboxStarted(this, this.sandboxId);
    }
    const sandboxId = this.sandboxId;
    this.podIP = (await runtime.podSandboxStatus(sandboxId)).ip;
    const waiting = new Map<string, WaitingOverride>();
    let attempts = latestAttempts(await runtime.listContainers({ sandboxId }));
    if (await this.killUnhealthy(attempts)) attempts = latestAttempts(await runtime.listContainers({ sandboxId }));
    const restartPolicy: string = this.pod.spec?.restartPolicy ?? 'Always';
    const now = this.host.now().getTime();

    let initDone = true;
    for (const spec of specList(this.pod.spec?.initContainers)) {
      const a = attempts.get(spec.name);
      if (isRestartableInitContainer(spec)) {
        if (!a) await this.startContainer(spec, 'sidecar', 0, waiting);
        else if (a.latest.state === 'CONTAINER_EXITED') await this.restartOrWait(spec, 'sidecar', a.latest, now, waiting);
        continue;
      }
      if (!a) {
        await this.startContainer(spec, 'init', 0, waiting);
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
          await this.startContainer(spec, 'regular', 0, waiting);
          continue;
        }
        if (a.latest.state !== 'CONTAINER_EXITED') continue;
        const failed = (a.latest.exitCode ?? 0) !== 0;
        if (restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && failed)) await this.restartOrWait(spec, 'regular', a.latest, now, waiting);
      }
    }
    const [sandbox, containers] = await Promise.all([runtime.podSandboxStatus(sandboxId), runtime.listContainers({ sandboxId })]);
    this.podIP = sandbox.ip;
    this.updateProbes(containers);
    const configErrors = [...waiting.values()].some((w) => w.reason === 'CreateContainerConfigError');
    if (configErrors) this.waitAndRetry();
    else this.waitMs = 0;
    const status = generatePodStatus(this.statusInput(sandbox, containers, waiting));
    await this.writeStatus(status);
    return status.phase;
  }

  // ---- volumes, env, probes ----

  /** What the downward API needs from the node. */
  private downwardContext() {
    return { podIPs: this.podIP ? [this.podIP] : [], hostIPs: [this.host.hostIP], nodeAllocatable: this.host.nodeAllocatable?.() ?? {} };
  }

  /** Re-syncs after a growing delay while the pod waits for volumes or objects. */
  private waitAndRetry(): void {
    this.waitMs = Math.min(waitBackoff.maxMs, this.waitMs ? this.waitMs * 2 : waitBackoff.initialMs);
    clearTimeout(this.waitTimer);
    this.waitTimer = setTimeout(() => this.kick(), this.waitMs);
    this.waitTimer.unref?.();
  }

  /** Sets up (or refreshes) the pod's volumes and watches what they and the env read; false while the pod must wait. */
  private async setUpVolumes(): Promise<boolean> {
    const { volumes, objects } = this.host;
    let references: string[] = [];
    if (volumes) {
      const result = await volumes.setUp(this.pod, this.downwardContext());
      for (const e of result.events) this.host.recorder()?.event(this.pod, e.type, e.reason, e.message);
      this.volumeState = result;
      this.volumesTornDown = false;
      references = result.references;
    }
    if (objects) {
      const ns: string = this.pod.metadata?.namespace ?? '';
      const envRefs = [...specList(this.pod.spec?.initContainers), ...specList(this.pod.spec?.containers)].flatMap((c) => containerEnvReferences(ns, c));
      objects.track(this.uid, [...new Set([...references, ...envRefs])].sort(), () => this.kick());
    }
    if (this.volumeState && !this.volumeState.ready) {
      this.waitAndRetry();
      return false;
    }
    return true;
  }

  /** The container's final environment (kubelet's makeEnvironmentVariables), or its literal values without an object source. */
  private async containerEnv(spec: KObject): Promise<EnvVar[]> {
    const source = this.host.objects;
    if (!source) return specList(spec.env).filter((e) => typeof e.value === 'string').map((e) => ({ name: e.name, value: e.value }));
    return makeEnvironmentVariables({ pod: this.pod, container: spec, source, ...this.downwardContext() });
  }

  private probeTarget(spec: KObject, containerId: string): ProbeTarget {
    return { pod: this.pod, container: spec, containerId, podIP: this.podIP, runtime: this.host.runtime };
  }

  /** Feeds the containers' latest attempts to the probe workers (created with the first probed container). */
  private updateProbes(containers: ContainerStatus[]): void {
    if (!this.probes) {
      if (this.finished || !podHasProbes(this.pod)) return;
      this.probes = new PodProbes({
        clock: this.host.probeClock ?? realClock,
        runtime: this.host.runtime,
        pod: () => this.pod,
        podIP: () => this.podIP,
        recorder: () => this.host.recorder(),
        onChange: () => this.kick(),
      });
    }
    this.probes.update(new Map([...latestAttempts(containers)].map(([name, a]) => [name, a.latest])));
  }

  /** Kills running containers whose liveness or startup probe failed (kubelet's computePodActions); true when it killed any. */
  private async killUnhealthy(attempts: ReturnType<typeof latestAttempts>): Promise<boolean> {
    if (!this.probes) return false;
    const restart = (this.pod.spec?.restartPolicy ?? 'Always') !== 'Never';
    let killed = false;
    for (const [name, { latest }] of attempts) {
      const failed = this.probes.failedProbe(latest);
      if (!failed) continue;
      const spec = this.containerSpec(name);
      const probe = spec?.[failed === 'liveness' ? 'livenessProbe' : 'startupProbe'];
      const grace = typeof probe?.terminationGracePeriodSeconds === 'number' ? probe.terminationGracePeriodSeconds : this.gracePeriod();
      const message = `Container ${name} failed ${failed} probe${restart ? ', will be restarted' : ''}`;
      await this.killContainer(latest.id, spec, message, grace);
      killed = true;
    }
    return killed;
  }

  private containerSpec(name: string): KObject | undefined {
    return [...specList(this.pod.spec?.initContainers), ...specList(this.pod.spec?.containers)].find((c) => c.name === name);
  }

  /** The pod's grace period: the deletion's, else terminationGracePeriodSeconds (default 30). */
  private gracePeriod(): number {
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /**
   * kubelet's killContainer: the Killing event, the preStop hook within the grace
   * period, then SIGTERM and SIGKILL after what is left of it.
   */
  private async killContainer(containerId: string, spec: KObject | undefined, message: string, graceSeconds: number): Promise<void> {
    const { runtime } = this.host;
    this.host.recorder()?.event(this.pod, 'Normal', 'Killing', message);
    let grace = graceSeconds;
    const preStop = spec?.lifecycle?.preStop;
    if (preStop && spec && grace > 0) {
      const clock = this.host.probeClock ?? realClock;
      const start = clock.now();
      let timer: unknown;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = clock.setTimeout(() => resolve('timeout'), grace * 1000)));
      const result = await Promise.race([runLifecycleHandler(preStop, this.probeTarget(spec, containerId), { clock }), timedOut]);
      clock.clearTimeout(timer);
      if (result === 'timeout') this.host.log({ level: 'info', msg: 'PreStop hook not completed in grace period', pod: this.key, container: spec.name, gracePeriod: grace });
      else if (!result.ok) this.host.recorder()?.event(this.pod, 'Warning', 'FailedPreStopHook', result.message ?? 'PreStopHook failed');
      grace = Math.max(minimumGracePeriodSeconds, grace - Math.floor((clock.now() - start) / 1000));
    }
    try {
      await runtime.stopContainer(containerId, grace);
    } catch (err) {
      if (!(err instanceof RuntimeNotFoundError)) throw err;
    }
  }

  private statusInput(sandbox: Awaited<ReturnType<PodRuntime['podSandboxStatus']>> | undefined, containers: ContainerStatus[], waiting: Map<string, WaitingOverride>, terminated = false) {
    const hostReady = this.host.isContainerReady;
    const probes = this.probes;
    const ready =
      hostReady || probes
        ? function (this: PodWorkerHost, pod: KObject, c: ContainerStatus) {
            return (!probes || probes.isReady(c)) && (!hostReady || hostReady.call(this, pod, c));
          }
        : undefined;
    return {
      pod: this.pod,
      sandbox,
      containers,
      runtimeName: this.host.runtime.runtimeName,
      hostIP: this.host.hostIP,
      now: this.host.now(),
      waiting,
      isReady: ready ? (c: ContainerStatus) => ready.call(this.host, this.pod, c) : undefined,
      isStarted: probes ? (c: ContainerStatus) => probes.isStarted(c) : undefined,
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
      await this.startContainer(spec, role, last.attempt + 1, waiting);
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

  /**
   * kubelet's startContainer: pull, resolve env and mounts (a failure is the container's
   * CreateContainerConfigError, retried later), create, start, then the postStart hook —
   * whose failure kills the container again (FailedPostStartHook).
   */
  private async startContainer(spec: KObject, role: ContainerRole, attempt: number, waiting?: Map<string, WaitingOverride>): Promise<void> {
    const { runtime } = this.host;
    const recorder = this.host.recorder();
    const pulled = await runtime.pullImage(spec.image);
    recorder?.event(this.pod, 'Normal', 'Pulled', pulled.pulled ? `Successfully pulled image "${spec.image}"` : `Container image "${spec.image}" already present on machine`);
    let env: EnvVar[];
    let mounts: ContainerConfig['mounts'];
    try {
      env = await this.containerEnv(spec);
      mounts = this.host.volumes && this.volumeState ? await this.host.volumes.mountsFor(spec, this.volumeState.volumes, env) : [];
    } catch (err) {
      if (!(err instanceof CreateContainerConfigError) || !waiting) throw err;
      waiting.set(spec.name, { reason: err.reason, message: err.message });
      recorder?.event(this.pod, 'Warning', 'Failed', `Error: ${err.message}`);
      return;
    }
    const { command, args } = expandCommandAndArgs(spec, env);
    const meta = this.pod.metadata ?? {};
    const config: ContainerConfig = {
      name: spec.name,
      image: spec.image,
      command,
      args,
      env,
      mounts,
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
      stdinOnce: spec.stdinOnce,
      resources: spec.resources,
      securityContext: {
        runAsUser: spec.securityContext?.runAsUser ?? this.pod.spec?.securityContext?.runAsUser,
        runAsGroup: spec.securityContext?.runAsGroup ?? this.pod.spec?.securityContext?.runAsGroup,
        supplementalGroups: this.pod.spec?.securityContext?.supplementalGroups,
      },
    };
    const failed = this.createFailures.get(spec.name);
    if (failed && waiting && this.host.now().getTime() < failed.until) {
      waiting.set(spec.name, { reason: failed.reason, message: failed.message });
      return;
    }
    let id: string;
    try {
      id = await runtime.createContainer(this.sandboxId!, config);
    } catch (err) {
      // kubelet: the container waits with the runtime's reason (CreateContainerError), a Failed event, retried with backoff.
      const reason = (err as { reason?: unknown }).reason;
      if (!waiting || typeof reason !== 'string' || !(err instanceof Error)) throw err;
      const delayMs = failed ? Math.min(restartBackoff.maxMs, failed.delayMs * 2) : restartBackoff.initialMs;
      this.createFailures.set(spec.name, { reason, message: err.message, delayMs, until: this.host.now().getTime() + delayMs });
      waiting.set(spec.name, { reason, message: err.message });
      recorder?.event(this.pod, 'Warning', 'Failed', `Error: ${err.message}`);
      clearTimeout(this.createRetryTimer);
      this.createRetryTimer = setTimeout(() => this.kick(), delayMs + 5);
      this.createRetryTimer.unref?.();
      return;
    }
    this.createFailures.delete(spec.name);
    recorder?.event(this.pod, 'Normal', 'Created', `Created container: ${spec.name}`);
    await runtime.startContainer(id);
    recorder?.event(this.pod, 'Normal', 'Started', `Started container ${spec.name}`);
    const postStart = spec.lifecycle?.postStart;
    if (postStart) {
      const result = await runLifecycleHandler(postStart, this.probeTarget(spec, id), { clock: this.host.probeClock ?? realClock });
      if (!result.ok) {
        recorder?.event(this.pod, 'Warning', 'FailedPostStartHook', result.message ?? 'PostStartHook failed');
        await this.killContainer(id, spec, 'FailedPostStartHook', this.gracePeriod());
      }
    }
  }

  // ---- terminating ----

  /** Stops every container with the pod's grace period, then the sandbox. */
  private async terminatePod(): Promise<void> {
    clearTimeout(this.backoffTimer);
    clearTimeout(this.waitTimer);
    this.probes?.stop();
    this.probes = undefined;
    const sandboxId = this.sandboxId;
    if (!sandboxId) return;
    const { runtime } = this.host;
    const grace = this.gracePeriod();
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
        if (c.state === 'CONTAINER_RUNNING') await this.killContainer(c.id, this.containerSpec(c.name), `Stopping container ${c.name}`, grace);
        else await runtime.stopContainer(c.id, grace);
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
      await this.tearDownVolumes();
      this.stop();
      this.host.forget(this);
      return;
    }
    // A finished pod's volumes go now (kubelet unmounts them); its record stays until it is deleted.
    await this.tearDownVolumes();
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

  private async tearDownVolumes(): Promise<void> {
    if (this.volumesTornDown || !this.host.volumes) return;
    await this.host.volumes.tearDown(this.uid);
    this.volumesTornDown = true;
    this.volumeState = undefined;
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
