/**
 * @module The node lifecycle controller (kube-controller-manager's node-lifecycle
 * controller, with the taint-eviction controller and the pod GC rules for dead nodes):
 *  - node health: a node whose Lease (or Ready heartbeat) has not moved for
 *    nodeMonitorGracePeriodSeconds gets Ready/MemoryPressure/DiskPressure/PIDPressure
 *    Unknown ("Kubelet stopped posting node status."), its pods Ready=False;
 *  - taints by condition: Ready False → node.kubernetes.io/not-ready, Unknown →
 *    node.kubernetes.io/unreachable (NoExecute and NoSchedule), pressure conditions and
 *    spec.unschedulable → NoSchedule taints; recovery removes them;
 *  - taint-based eviction: pods that do not tolerate a NoExecute taint are deleted at
 *    once, those that do for tolerationSeconds are deleted when that runs out;
 *  - pods a dead kubelet can no longer finish: terminating pods on a NotReady/Unknown
 *    node and pods bound to a node that no longer exists are deleted with grace 0.
 * Health is judged by when this controller observed a heartbeat move (kube's
 * probeTimestamp), never by comparing the kubelet's clock with ours.
 */
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { keyOf, Resources, runWorkers, splitKey, WorkQueue, type Client, type EventRecorder, type Informer, type InformerFactory } from '../../client/index.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  matchingTolerations,
  minTolerationSeconds,
  noExecuteTaints,
  readyCondition,
  reconcileTaints,
  taintsOf,
  wantedTaints,
  type Taint,
  type Toleration,
} from './taints.js';

/** Conditions the controller turns Unknown when the kubelet goes quiet (kube's list). */
const monitoredConditions = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
const nodeLeaseNamespace = 'kube-node-lease';
const nodeNameIndex = 'nodeName';

export interface NodeLifecycleControllerOptions {
  client: Client;
  informers: InformerFactory;
  now: () => Date;
  /** Events as "node-controller" (NodeNotReady, RegisteredNode, pods' NodeNotReady). */
  recorder: EventRecorder;
  /** Events as "taint-eviction-controller" (TaintManagerEviction). */
  evictionRecorder: EventRecorder;
  log?: (msg: Record<string, unknown>) => void;
  /** kube's --node-monitor-grace-period (40 s). */
  gracePeriodSeconds?: number;
  /** kube's --node-monitor-period (5 s): how often health is checked. */
  monitorPeriodSeconds?: number;
  /** kube's --node-startup-grace-period (60 s): for nodes that never posted Ready. */
  startupGracePeriodSeconds?: number;
}

interface NodeHealth {
  /** When this controller last saw a heartbeat move (ms, its own clock). */
  probeMs: number;
  heartbeat?: string;
  leaseRenewTime?: string;
  registered?: boolean;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isApiError(err: unknown, ...codes: number[]): boolean {
  return err instanceof ApiError && codes.includes(err.code);
}

function isTerminal(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function conditionsOf(pod: KObject): KObject[] {
  return Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
}

/** kube's PodGC quarantineTime: how long a node must be gone before its pods are deleted. */
export const orphanQuarantineMs = 40_000;

export class NodeLifecycleController implements Controller {
  readonly name = 'nodelifecycle';
  readonly nodeQueue = new WorkQueue({ name: 'node_lifecycle_controller' });
  readonly podQueue = new WorkQueue({ name: 'taint_eviction_controller' });
  /** When each missing node was first found missing (pod GC quarantine). */
  private readonly nodeMissingSince = new Map<string, number>();
  readonly nodes: Informer;
  readonly leases: Informer;
  readonly pods: Informer;
  private readonly client: Client;
  private readonly now: () => Date;
  private readonly recorder: EventRecorder;
  private readonly evictionRecorder: EventRecorder;
  private readonly log: (msg: Record<string, unknown>) => void;
  readonly gracePeriodMs: number;
  readonly startupGracePeriodMs: number;
  readonly monitorPeriodMs: number;
  private readonly health = new Map<string, NodeHealth>();
  /** Pods with an eviction pending (for the "Cancelling deletion" event). */
  private readonly scheduledEvictions = new Map<string, number>();
  /** When a pod was first seen on a NoExecute-tainted node it tolerates for a while. */
  private readonly firstSeenTainted = new Map<string, number>();

  constructor(opts: NodeLifecycleControllerOptions) {
    this.client = opts.client;
    this.now = opts.now;
    this.recorder = opts.recorder;
    this.evictionRecorder = opts.evictionRecorder;
    this.log = opts.log ?? (() => {});
    this.gracePeriodMs = (opts.gracePeriodSeconds ?? 40) * 1000;
    this.startupGracePeriodMs = Math.max((opts.startupGracePeriodSeconds ?? 60) * 1000, this.gracePeriodMs);
    // A period longer than the grace would let a dead node go unnoticed for both summed.
    this.monitorPeriodMs = Math.max(100, Math.min((opts.monitorPeriodSeconds ?? 5) * 1000, this.gracePeriodMs / 2));
    this.nodes = opts.informers.for(Resources.nodes);
    this.leases = opts.informers.for(Resources.leases, { namespace: nodeLeaseNamespace });
    this.pods = opts.informers.for(Resources.pods);
    this.pods.addIndex(nodeNameIndex, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));

    this.nodes.addEventHandlers({
      add: (n) => {
        this.observeNode(n);
        this.nodeQueue.add(keyOf(n));
      },
      update: (old, cur) => {
        this.observeNode(cur);
        this.nodeQueue.add(keyOf(cur));
        const taintsMoved = JSON.stringify(noExecuteTaints(old)) !== JSON.stringify(noExecuteTaints(cur));
        if (taintsMoved || readyCondition(old)?.status !== readyCondition(cur)?.status) this.enqueuePodsOn(keyOf(cur));
      },
      delete: (n) => {
        this.health.delete(keyOf(n));
        this.enqueuePodsOn(keyOf(n));
      },
    });
    this.leases.addEventHandlers({
      add: (l) => this.observeLease(l),
      update: (_o, l) => this.observeLease(l),
    });
    this.pods.addEventHandlers({
      add: (p) => this.considerPod(p),
      update: (_o, p) => this.considerPod(p),
      delete: (p) => {
        this.scheduledEvictions.delete(keyOf(p));
        this.firstSeenTainted.delete(keyOf(p));
      },
    });
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    await Promise.all([this.nodes.waitForSync(), this.leases.waitForSync(), this.pods.waitForSync()]);
    if (signal.aborted) return;
    // Pods bound to nodes that were already gone when the caches filled.
    for (const p of this.pods.list()) this.considerPod(p);
    const monitor = setInterval(() => this.monitorNodeHealth(), this.monitorPeriodMs);
    monitor.unref?.();
    signal.addEventListener('abort', () => clearInterval(monitor), { once: true });
    const onError = (queue: string) => (key: string, err: unknown) =>
      this.log({ level: 'warn', msg: 'sync failed', controller: this.name, queue, key, error: String(err instanceof Error ? err.message : err) });
    await Promise.all([
      runWorkers(this.nodeQueue, workers, (key) => this.syncNode(key), signal, onError('node')),
      runWorkers(this.podQueue, workers, (key) => this.syncPod(key), signal, onError('pod')),
    ]);
  }

  // ---- observation (handlers only record and enqueue) ----

  private observeNode(node: KObject): void {
    const name = keyOf(node);
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    const h = this.health.get(name);
    const now = this.now().getTime();
    if (!h) this.health.set(name, { probeMs: now, heartbeat });
    else if (heartbeat !== h.heartbeat) {
      h.heartbeat = heartbeat;
      h.probeMs = now;
    }
  }

  private observeLease(lease: KObject): void {
    const name = lease.metadata?.name ?? '';
    const renew = lease.spec?.renewTime;
    const h = this.health.get(name);
    const now = this.now().getTime();
    if (!h) this.health.set(name, { probeMs: now, leaseRenewTime: renew });
    else if (renew !== h.leaseRenewTime) {
      h.leaseRenewTime = renew;
      h.probeMs = now;
    }
  }

  private enqueuePodsOn(nodeName: string): void {
    for (const p of this.pods.byIndex(nodeNameIndex, nodeName)) this.podQueue.add(keyOf(p));
  }

  /** Cheap filter for the pod handlers: only pods this controller may act on are queued. */
  private considerPod(pod: KObject): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const key = keyOf(pod);
    const node = this.nodes.getByName(undefined, nodeName);
    if (!node) {
      if (this.nodes.hasSynced()) this.podQueue.add(key);
      return;
    }
    if (pod.metadata?.deletionTimestamp && readyCondition(node)?.status !== 'True') this.podQueue.add(key);
    else if (noExecuteTaints(node).length > 0 || this.scheduledEvictions.has(key)) this.podQueue.add(key);
  }

  /** kube's monitorNodeHealth period: queue the nodes whose heartbeat is overdue. */
  monitorNodeHealth(): void {
    const now = this.now().getTime();
    for (const node of this.nodes.list()) {
      const name = keyOf(node);
      const h = this.health.get(name);
      if (!h) {
        this.observeNode(node);
        continue;
      }
      const grace = readyCondition(node) ? this.gracePeriodMs : this.startupGracePeriodMs;
      if (now - h.probeMs <= grace) continue;
      const conds: KObject[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
      const allUnknown = monitoredConditions.every((t) => conds.find((c) => c.type === t)?.status === 'Unknown');
      if (!allUnknown) this.nodeQueue.add(name);
    }
  }

  // ---- node sync ----

  /** The conditions a silent node gets: every monitored one Unknown (undefined: already so). */
  private unknownStatus(node: KObject, now: Date): KObject[] | undefined {
    const ts = rfc3339(now);
    const conds: KObject[] = Array.isArray(node.status?.conditions) ? structuredClone(node.status.conditions) : [];
    let changed = false;
    for (const type of monitoredConditions) {
      const c = conds.find((x) => x.type === type);
      if (!c) {
        conds.push({
          type,
          status: 'Unknown',
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
          lastHeartbeatTime: node.metadata?.creationTimestamp ?? ts,
          lastTransitionTime: ts,
        });
        changed = true;
      } else if (c.status !== 'Unknown') {
        c.status = 'Unknown';
        c.reason = 'NodeStatusUnknown';
        c.message = 'Kubelet stopped posting node status.';
        c.lastTransitionTime = ts;
        changed = true;
      }
    }
    return changed ? conds : undefined;
  }

  /** The whole decision for one node: health, conditions, taints, its pods' readiness. */
  async syncNode(name: string): Promise<void> {
    const cached = this.nodes.getByName(undefined, name);
    if (!cached) {
      this.health.delete(name);
      return;
    }
    this.observeNode(cached);
    const h = this.health.get(name)!;
    if (!h.registered) {
      h.registered = true;
      this.recorder.event(cached, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
    }
    const now = this.now();
    let node = cached;
    const observedReady = readyCondition(node)?.status;
    const grace = readyCondition(node) ? this.gracePeriodMs : this.startupGracePeriodMs;
    if (now.getTime() - h.probeMs > grace) {
      const conditions = this.unknownStatus(node, now);
      if (conditions) {
        const next = structuredClone(node);
        next.status = { ...(next.status ?? {}), conditions };
        node = await this.client.update(Resources.nodes, undefined, next, { subresource: 'status' });
        this.log({ level: 'info', msg: 'node stopped posting status', node: name });
      }
    }
    const currentReady = readyCondition(node)?.status;
    if (observedReady === 'True' && currentReady !== 'True') {
      this.recorder.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    if (currentReady !== undefined && currentReady !== 'True') await this.markPodsNotReady(name);

    const { taints, changed } = reconcileTaints(taintsOf(node), wantedTaints(node), rfc3339(now));
    if (changed) {
      const next = structuredClone(node);
      next.spec = { ...(next.spec ?? {}), taints };
      if (taints.length === 0) delete next.spec.taints;
      await this.client.update(Resources.nodes, undefined, next);
    }
  }

  /** MarkPodsNotReady: the pods of a node that is not Ready are not Ready either. */
  private async markPodsNotReady(nodeName: string): Promise<void> {
    const now = rfc3339(this.now());
    let failed: unknown;
    for (const pod of this.pods.byIndex(nodeNameIndex, nodeName)) {
      if (isTerminal(pod)) continue;
      const ready = conditionsOf(pod).find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const next = structuredClone(pod);
      for (const c of conditionsOf(next)) if (c.type === 'Ready') Object.assign(c, { status: 'False', lastTransitionTime: now });
      try {
        await this.client.update(Resources.pods, pod.metadata?.namespace, next, { subresource: 'status' });
        this.recorder.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (isApiError(err, 404)) continue;
        failed = err;
      }
    }
    if (failed) throw failed;
  }

  // ---- pod sync: taint eviction and dead-node cleanup ----

  /** The whole decision for one pod bound to a node: force delete, evict, schedule or cancel. */
  async syncPod(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const pod = this.pods.getByName(namespace, name);
    if (!pod) {
      this.scheduledEvictions.delete(key);
      this.firstSeenTainted.delete(key);
      return;
    }
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) return;
    let node = this.nodes.getByName(undefined, nodeName);
    if (!node) {
      // The cache may lag a node's creation; only a confirmed absence orphans the pod.
      try {
        node = await this.client.get(Resources.nodes, undefined, nodeName);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        // kube's pod GC quarantines a missing node for 40 s before deleting its pods, so a
        // pod bound just before its node registers (or by hand) is not lost.
        const nowMs = this.now().getTime();
        const since = this.nodeMissingSince.get(nodeName) ?? nowMs;
        this.nodeMissingSince.set(nodeName, since);
        const left = since + orphanQuarantineMs - nowMs;
        if (left > 0) {
          this.podQueue.addAfter(key, left);
          return;
        }
        await this.forceDelete(pod, 'PodGC: node no longer exists');
        return;
      }
    }
    this.nodeMissingSince.delete(nodeName);
    if (pod.metadata?.deletionTimestamp) {
      const ready = readyCondition(node)?.status;
      // A kubelet that is gone cannot finish a graceful delete (kube's pod GC for dead nodes).
      if (ready === 'Unknown' || ready === 'False') await this.forceDelete(pod);
      return;
    }
    const taints = noExecuteTaints(node);
    const nowMs = this.now().getTime();
    if (taints.length === 0) return this.cancelEviction(pod);
    const { all, used } = matchingTolerations(taints, (Array.isArray(pod.spec?.tolerations) ? pod.spec.tolerations : []) as Toleration[]);
    if (!all) return this.evict(pod);
    const seconds = minTolerationSeconds(used);
    if (seconds < 0) return this.cancelEviction(pod);
    const fireAt = this.evictionStart(pod, taints, nowMs) + seconds * 1000;
    if (nowMs >= fireAt) return this.evict(pod);
    this.scheduledEvictions.set(key, fireAt);
    this.podQueue.addAfter(key, fireAt - nowMs);
  }

  /**
   * When a tolerated eviction's clock started: the taint's timeAdded for pods that were
   * there before it (so a controller restart keeps the deadline), otherwise the moment
   * this controller first saw the pod on the tainted node.
   */
  private evictionStart(pod: KObject, taints: Taint[], nowMs: number): number {
    const key = keyOf(pod);
    let seen = this.firstSeenTainted.get(key);
    if (seen === undefined) {
      seen = nowMs;
      this.firstSeenTainted.set(key, seen);
    }
    const added = Math.max(...taints.map((t) => (t.timeAdded ? Date.parse(t.timeAdded) : NaN)).filter((n) => !Number.isNaN(n)), -Infinity);
    const created = Date.parse(pod.metadata?.creationTimestamp ?? '');
    if (Number.isFinite(added) && Number.isFinite(created) && created <= added) return added;
    return seen;
  }

  private cancelEviction(pod: KObject): void {
    const key = keyOf(pod);
    this.firstSeenTainted.delete(key);
    if (!this.scheduledEvictions.delete(key)) return;
    this.evictionRecorder.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  private async evict(pod: KObject): Promise<void> {
    const key = keyOf(pod);
    const meta = pod.metadata ?? {};
    this.evictionRecorder.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    await this.addDisruptionTarget(pod, 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint');
    try {
      await this.client.delete(Resources.pods, meta.namespace, meta.name ?? '', { preconditions: { uid: meta.uid } });
    } catch (err) {
      if (!isApiError(err, 404, 409)) throw err;
    }
    this.scheduledEvictions.delete(key);
    this.firstSeenTainted.delete(key);
  }

  /** The DisruptionTarget condition kube adds before deleting a pod on its own initiative. */
  private async addDisruptionTarget(pod: KObject, reason: string, message: string, failPhase = false): Promise<void> {
    const conditions = conditionsOf(pod).filter((c) => c.type !== 'DisruptionTarget');
    conditions.push({ type: 'DisruptionTarget', status: 'True', reason, message, lastProbeTime: null, lastTransitionTime: rfc3339(this.now()) });
    const status: KObject = { conditions };
    if (failPhase && !isTerminal(pod)) status.phase = 'Failed';
    try {
      await this.client.patch(Resources.pods, pod.metadata?.namespace, pod.metadata?.name ?? '', 'merge', { status }, { subresource: 'status' });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

  /** Pod GC's markFailedAndDeletePod: terminal phase (and why), then delete with grace 0. */
  private async forceDelete(pod: KObject, orphanMessage?: string): Promise<void> {
    const meta = pod.metadata ?? {};
    if (orphanMessage) await this.addDisruptionTarget(pod, 'DeletionByPodGC', orphanMessage, true);
    else if (!isTerminal(pod)) {
      try {
        await this.client.patch(Resources.pods, meta.namespace, meta.name ?? '', 'merge', { status: { phase: 'Failed' } }, { subresource: 'status' });
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
    try {
      await this.client.delete(Resources.pods, meta.namespace, meta.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: meta.uid } });
      this.log({ level: 'info', msg: 'force deleted pod of a dead node', pod: keyOf(pod), node: pod.spec?.nodeName });
    } catch (err) {
      if (!isApiError(err, 404, 409)) throw err;
    }
    this.scheduledEvictions.delete(keyOf(pod));
    this.firstSeenTainted.delete(keyOf(pod));
  }
}

export function newNodeLifecycleController(ctx: ControllerContext): NodeLifecycleController {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
  return new NodeLifecycleController({
    client: ctx.client,
    informers: ctx.informers,
    now: ctx.now,
    recorder: ctx.recorder('node-controller'),
    evictionRecorder: ctx.recorder('taint-eviction-controller'),
    log: ctx.log,
    gracePeriodSeconds: num(ctx.options.nodeMonitorGracePeriodSeconds, 40),
    monitorPeriodSeconds: num(ctx.options.nodeMonitorPeriodSeconds, 5),
    startupGracePeriodSeconds: num(ctx.options.nodeStartupGracePeriodSeconds, 60),
  });
}
