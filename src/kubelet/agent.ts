/**
 * @module The node agent (kubelet's core, runtime-agnostic): registers its Node,
 * heartbeats through a Lease in kube-node-lease and node status, and runs the pods bound
 * to it through per-pod workers over a PodRuntime. The hollow runtime plugs in today;
 * the process runtime plugs into the same interface later. Pods and the Node object
 * arrive through `handlePod`/`handleNode` so many agents can share one watch;
 * `startNodeAgent` wires a single agent with its own watches and timers.
 */
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { EventRecorder, InformerFactory, Resources, keyOf, realClock, type Client, type Clock } from '../client/index.js';
import { InformerObjectSource, type ObjectSource } from './env/index.js';
import { Limiter } from './limiter.js';
import { desiredNodeStatus, initialNode, microTime, nodeLease, nodeLeaseNamespace, nodeStatusChanged, type NodeFacts } from './node-status.js';
import { PodWorker, type PodWorkerHost } from './pod-worker.js';
import type { ContainerStatus, PodRuntime } from './runtime.js';
import { VolumeManager } from './volumes/index.js';

export type { PodRuntime } from './runtime.js';
export type { NodeFacts } from './node-status.js';

/** kubelet's nodeLease renew interval (a quarter of the 40 s lease duration). */
export const leaseRenewIntervalMs = 10_000;
/** kubelet's nodeStatusReportFrequency: unchanged status is re-posted this often. */
export const nodeStatusReportFrequencyMs = 5 * 60_000;

export interface NodeAgentOptions {
  client: Client;
  runtime: PodRuntime;
  facts: NodeFacts;
  now?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
  /** Events as component "kubelet", source.host = node name. */
  recorder?: EventRecorder;
  /** Shared across agents to bound in-flight pod API writes (default: 16 per agent). */
  limiter?: Limiter;
  /**
   * Bounds in-flight node/lease writes separately, so heartbeats never queue behind a
   * burst of pod status writes (default: 4 per agent).
   */
  heartbeatLimiter?: Limiter;
  /** Write a ContainerCreating status as soon as a pod is seen (default true). */
  reportPendingStatus?: boolean;
  /** Emit kubelet's pod events (Pulled, Created, Started, Killing, BackOff); default true. */
  recordPodEvents?: boolean;
  /** Emit kubelet's node events (Starting, NodeHasSufficientMemory…, NodeReady); default true. */
  recordNodeEvents?: boolean;
  /** Readiness of a running container on top of its probes; default: what the probes say. */
  isContainerReady?: (pod: KObject, c: ContainerStatus) => boolean;
  /**
   * kubelet's --root-dir (<dataDir>/kubelet): pod volumes are materialized under
   * <rootDir>/pods/<uid>/volumes. Without it volumes are checked but not written.
   */
  rootDir?: string;
  /** Where pods' ConfigMaps, Secrets, services and claims are read; share one across agents. */
  objects?: ObjectSource;
  /** Informers for the default object source (e.g. the controller manager's); default: the agent's own. */
  informers?: InformerFactory;
  /** Time for probes and lifecycle hooks (tests inject a fake clock). */
  probeClock?: Clock;
}

function isApiError(err: unknown, code: number): boolean {
  return err instanceof ApiError && err.code === code;
}

export class NodeAgent implements PodWorkerHost {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly runtime: PodRuntime;
  readonly client: Client;
  readonly limiter: Limiter;
  private readonly heartbeats: Limiter;
  readonly reportPendingStatus: boolean;
  private _paused = false;
  private readonly workers = new Map<string, PodWorker>();
  private readonly byKey = new Map<string, string>();
  private readonly bySandbox = new Map<string, PodWorker>();
  /** The Node object as last seen (watch) or written (registration, status). */
  node?: KObject;
  private lease?: KObject;
  private lastStatusReport = 0;
  private registered = false;
  private readonly unsubscribe: () => void;
  private readonly clock: () => Date;
  readonly objects: ObjectSource;
  private readonly ownObjects?: InformerObjectSource;
  readonly volumes: VolumeManager;
  readonly probeClock: Clock;

  constructor(private readonly opts: NodeAgentOptions) {
    this.nodeName = opts.facts.name;
    this.hostIP = opts.facts.internalIP;
    this.runtime = opts.runtime;
    this.client = opts.client;
    this.limiter = opts.limiter ?? new Limiter(16);
    this.heartbeats = opts.heartbeatLimiter ?? new Limiter(4);
    this.reportPendingStatus = opts.reportPendingStatus ?? true;
    this.clock = opts.now ?? (() => new Date());
    this.probeClock = opts.probeClock ?? realClock;
    if (opts.objects) this.objects = opts.objects;
    else this.objects = this.ownObjects = new InformerObjectSource({ client: opts.client, informers: opts.informers, log: opts.log });
    this.volumes = new VolumeManager({ rootDir: opts.rootDir, source: this.objects, simulated: opts.runtime.simulated, log: (m) => this.log(m) });
    this.unsubscribe = opts.runtime.subscribe((ev) => {
      // PLEG: a container changed state; its pod's worker re-syncs.
      this.bySandbox.get(ev.sandboxId)?.kick();
    });
  }

  get paused(): boolean {
    return this._paused;
  }

  now(): Date {
    return this.clock();
  }

  recorder(): EventRecorder | undefined {
    return this.opts.recordPodEvents === false ? undefined : this.opts.recorder;
  }

  log(msg: Record<string, unknown>): void {
    this.opts.log?.({ node: this.nodeName, ...msg });
  }

  isContainerReady(pod: KObject, c: ContainerStatus): boolean {
    return this.opts.isContainerReady ? this.opts.isContainerReady(pod, c) : true;
  }

  /** What the downward API gives containers without limits: the Node's allocatable. */
  nodeAllocatable(): Record<string, string> {
    return this.node?.status?.allocatable ?? this.opts.facts.allocatable ?? this.opts.facts.capacity;
  }

  /** The object kubelet's node events name: kubelet uses the node name as the uid. */
  private nodeRef(): KObject {
    return { apiVersion: 'v1', kind: 'Node', metadata: { name: this.nodeName, uid: this.nodeName } };
  }

  // ---- registration and heartbeats ----

  /** Registers the Node (or reconciles an existing one), then creates or renews its Lease. */
  async register(): Promise<void> {
    const now = this.now();
    const recordEvents = this.opts.recordNodeEvents ?? true;
    if (recordEvents) this.opts.recorder?.event(this.nodeRef(), 'Normal', 'Starting', 'Starting kubelet.');
    let node: KObject;
    try {
      node = await this.heartbeats.run(() => this.client.create(Resources.nodes, undefined, initialNode(this.opts.facts, now)));
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
      const existing = await this.client.get(Resources.nodes, undefined, this.nodeName);
      node = await this.reconcileExisting(existing, now);
    }
    this.node = node;
    this.lastStatusReport = now.getTime();
    this.registered = true;
    if (recordEvents) {
      const r = this.opts.recorder;
      for (const reason of ['NodeHasSufficientMemory', 'NodeHasNoDiskPressure', 'NodeHasSufficientPID'])
        r?.event(this.nodeRef(), 'Normal', reason, `Node ${this.nodeName} status is now: ${reason}`);
      r?.event(this.nodeRef(), 'Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
      r?.event(this.nodeRef(), 'Normal', 'NodeReady', `Node ${this.nodeName} status is now: NodeReady`);
    }
    await this.renewLease();
  }

  /** kubelet on an already registered node: refresh default labels and post a fresh status. */
  private async reconcileExisting(existing: KObject, now: Date): Promise<KObject> {
    const want = this.opts.facts.labels;
    const have = existing.metadata?.labels ?? {};
    let node = existing;
    const missing = Object.entries(want).filter(([k, v]) => have[k] !== v);
    if (missing.length > 0)
      node = await this.heartbeats.run(() => this.client.patch(Resources.nodes, undefined, this.nodeName, 'merge', { metadata: { labels: Object.fromEntries(missing) } }));
    // Annotations the agent owns (its streaming address) follow the agent across restarts.
    const haveAnnotations = node.metadata?.annotations ?? {};
    const staleAnnotations = Object.entries(this.opts.facts.annotations ?? {}).filter(([k, v]) => haveAnnotations[k] !== v);
    if (staleAnnotations.length > 0)
      node = await this.heartbeats.run(() =>
        this.client.patch(Resources.nodes, undefined, this.nodeName, 'merge', { metadata: { annotations: Object.fromEntries(staleAnnotations) } }),
      );
    const podCIDR = this.opts.facts.podCIDR;
    if (podCIDR && !node.spec?.podCIDR)
      node = await this.heartbeats.run(() => this.client.patch(Resources.nodes, undefined, this.nodeName, 'merge', { spec: { podCIDR, podCIDRs: [podCIDR] } }));
    return this.postStatus(node, now);
  }

  private async postStatus(current: KObject | undefined, now: Date): Promise<KObject> {
    const status = desiredNodeStatus(this.opts.facts, current, now);
    const written = await this.heartbeats.run(() => this.client.patch(Resources.nodes, undefined, this.nodeName, 'merge', { status }, { subresource: 'status' }));
    this.lastStatusReport = now.getTime();
    return written;
  }

  /** Renews (or recreates) the node Lease: kubelet's heartbeat, every 10 s. */
  async renewLease(): Promise<void> {
    if (this._paused) return;
    const now = this.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.lease) {
          try {
            this.lease = await this.heartbeats.run(() => this.client.get(Resources.leases, nodeLeaseNamespace, this.nodeName));
          } catch (err) {
            if (!isApiError(err, 404)) throw err;
            const fresh = nodeLease(this.node ?? { metadata: { name: this.nodeName } }, now);
            this.lease = await this.heartbeats.run(() => this.client.create(Resources.leases, nodeLeaseNamespace, fresh));
            return;
          }
        }
        const next = structuredClone(this.lease!);
        next.spec = { ...(next.spec ?? {}), holderIdentity: this.nodeName, leaseDurationSeconds: next.spec?.leaseDurationSeconds ?? 40, renewTime: microTime(now) };
        this.lease = await this.heartbeats.run(() => this.client.update(Resources.leases, nodeLeaseNamespace, next));
        return;
      } catch (err) {
        // Someone else wrote or removed it: start again from the server's copy.
        if (isApiError(err, 409) || isApiError(err, 404)) {
          this.lease = undefined;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * kubelet's node status loop: posts when what it would report differs from the Node
   * (e.g. the node controller set Ready=Unknown) or nodeStatusReportFrequency has passed.
   */
  async syncNodeStatus(force = false): Promise<void> {
    if (this._paused || !this.registered) return;
    const now = this.now();
    const desired = desiredNodeStatus(this.opts.facts, this.node, now);
    const due = now.getTime() - this.lastStatusReport >= nodeStatusReportFrequencyMs;
    if (!force && !due && !nodeStatusChanged(this.node, desired)) return;
    const wasReady = this.node?.status?.conditions?.find((c: KObject) => c.type === 'Ready')?.status === 'True';
    try {
      this.node = await this.postStatus(this.node, now);
    } catch (err) {
      if (isApiError(err, 404)) return;
      throw err;
    }
    if (!wasReady && (this.opts.recordNodeEvents ?? true))
      this.opts.recorder?.event(this.nodeRef(), 'Normal', 'NodeReady', `Node ${this.nodeName} status is now: NodeReady`);
  }

  /** The Node as the watch sees it (undefined: deleted). */
  handleNode(node: KObject | undefined): void {
    if (!node) {
      this.node = undefined;
      return;
    }
    const rv = Number(node.metadata?.resourceVersion ?? 0);
    if (this.node && Number(this.node.metadata?.resourceVersion ?? 0) > rv) return;
    this.node = node;
  }

  // ---- pods ----

  /** A pod bound to this node was added or changed. */
  handlePod(pod: KObject): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const key = keyOf(pod);
    const prevUid = this.byKey.get(key);
    if (prevUid && prevUid !== uid) {
      // Same name, new pod (a StatefulSet replacement): the old one is gone.
      this.workers.get(prevUid)?.markDeleted();
    }
    this.byKey.set(key, uid);
    let w = this.workers.get(uid);
    if (!w) {
      w = new PodWorker(this, pod);
      this.workers.set(uid, w);
    }
    w.update(pod);
  }

  sandboxStarted(worker: PodWorker, sandboxId: string): void {
    this.bySandbox.set(sandboxId, worker);
  }

  /** A pod bound to this node left the API server. */
  handlePodDeleted(pod: KObject): void {
    const uid = pod.metadata?.uid;
    const w = uid ? this.workers.get(uid) : undefined;
    if (!w) return;
    if (this.byKey.get(keyOf(pod)) === uid) this.byKey.delete(keyOf(pod));
    w.pod = pod;
    w.markDeleted();
  }

  forget(worker: PodWorker): void {
    this.workers.delete(worker.uid);
    for (const [id, w] of this.bySandbox) if (w === worker) this.bySandbox.delete(id);
  }

  /** The worker of a pod bound here, by namespace and name (kubelet's GetPodByName; streaming). */
  podWorker(namespace: string, name: string): PodWorker | undefined {
    const uid = this.byKey.get(`${namespace}/${name}`);
    return uid ? this.workers.get(uid) : undefined;
  }

  /** Pods this agent is working on (any state). */
  podWorkers(): PodWorker[] {
    return [...this.workers.values()];
  }

  // ---- lifecycle ----

  /** Stops heartbeats and pod work, as a node that lost power would (the runtime keeps its state). */
  pause(): void {
    this._paused = true;
  }

  /** Back from a pause: heartbeat at once, re-post status, re-sync every pod. */
  async resume(): Promise<void> {
    if (!this._paused) return;
    this._paused = false;
    await this.renewLease();
    await this.syncNodeStatus(true);
    for (const w of this.workers.values()) w.kick();
  }

  stop(): void {
    this._paused = true;
    this.unsubscribe();
    for (const w of this.workers.values()) w.stop();
    this.ownObjects?.stop();
  }
}

export interface StartNodeAgentOptions extends NodeAgentOptions {
  signal: AbortSignal;
  /** Lease renew period (default 10 s); node status is checked on the same beat. */
  heartbeatMs?: number;
}

/**
 * Runs one agent on its own: its Node and the pods bound to it come from watches
 * (fieldSelector metadata.name / spec.nodeName), heartbeats from its own timer.
 */
export async function startNodeAgent(opts: StartNodeAgentOptions): Promise<{ agent: NodeAgent; stop(): Promise<void> }> {
  const agent = new NodeAgent(opts);
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  await agent.register();
  const informers = new InformerFactory(opts.client, opts.log);
  const pods = informers.for(Resources.pods, { fieldSelector: `spec.nodeName=${agent.nodeName}` });
  pods.addEventHandlers({ add: (p) => agent.handlePod(p), update: (_o, p) => agent.handlePod(p), delete: (p) => agent.handlePodDeleted(p) });
  const nodes = informers.for(Resources.nodes, { fieldSelector: `metadata.name=${agent.nodeName}` });
  nodes.addEventHandlers({ add: (n) => agent.handleNode(n), update: (_o, n) => agent.handleNode(n), delete: () => agent.handleNode(undefined) });
  informers.start(abort.signal);
  const beat = async () => {
    try {
      await agent.renewLease();
      await agent.syncNodeStatus();
    } catch (err) {
      agent.log({ level: 'warn', msg: 'heartbeat failed', error: String(err) });
    }
  };
  const timer = setInterval(() => void beat(), opts.heartbeatMs ?? leaseRenewIntervalMs);
  timer.unref?.();
  return {
    agent,
    async stop() {
      clearInterval(timer);
      abort.abort();
      opts.signal.removeEventListener('abort', onAbort);
      agent.stop();
    },
  };
}
