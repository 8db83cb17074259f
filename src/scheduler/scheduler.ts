/**
 * @module The default-scheduler: informer handlers feed the scheduling queue (pending pods)
 * and the cache (nodes, assigned pods); one loop pops a pod, runs the framework, assumes
 * the chosen node in the cache and binds asynchronously through pods/binding, so the next
 * cycle never waits for the API. Failures record FailedScheduling and the PodScheduled
 * condition as kube-scheduler words them, and preemption evicts the chosen victims.
 */
import type { KObject } from '../api/types.js';
import { Resources, keyOf, realClock, type Client, type Clock, type EventRecorder, type Informer, type InformerFactory } from '../client/index.js';
import { SchedulerCache } from './cache.js';
import { CycleState, truncateMessage, type ClusterEvent, type PluginFactory } from './framework.js';
import { newMetrics, observe, type AttemptResult, type SchedulerMetrics } from './metrics.js';
import { defaultPlugins, registry as inTreeRegistry } from './plugins/registry.js';
import { SchedulingQueue, type QueuedPodInfo, type SchedulingQueueOptions } from './queue.js';
import { FitError, Framework, NoNodesAvailableError } from './runtime.js';
import { newPodInfo, type PodInfo } from './types.js';

export const defaultSchedulerName = 'default-scheduler';

export interface SchedulerOptions {
  client: Client;
  informers: InformerFactory;
  signal: AbortSignal;
  /** Wall clock for condition timestamps. */
  now?: () => Date;
  log?: (m: Record<string, unknown>) => void;
  /** Records Scheduled / FailedScheduling / Preempted (component default-scheduler). */
  recorder: EventRecorder;
  schedulerName?: string;
  /** Timers for backoff and flushes (tests pass a fake). */
  clock?: Clock;
  /** 0 (default): kube's adaptive percentage. */
  percentageOfNodesToScore?: number;
  /** Bindings allowed in flight before the loop waits for one to finish. */
  maxInFlightBindings?: number;
  plugins?: readonly string[];
  registry?: Record<string, PluginFactory>;
  queue?: Omit<SchedulingQueueOptions, 'clock' | 'pluginEvents'>;
  random?: () => number;
}

const isTerminal = (pod: KObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const isAssigned = (pod: KObject) => !!pod.spec?.nodeName;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Node changes that can make a rejected pod fit (kube's node update queueing hints, coarsened). */
function nodeSchedulingChanged(oldNode: KObject, node: KObject): boolean {
  const ready = (n: KObject) => ((n.status?.conditions as KObject[] | undefined) ?? []).find((c) => c.type === 'Ready')?.status;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return (
    !!oldNode.spec?.unschedulable !== !!node.spec?.unschedulable ||
    ready(oldNode) !== ready(node) ||
    !same(oldNode.status?.allocatable, node.status?.allocatable) ||
    !same(oldNode.spec?.taints, node.spec?.taints) ||
    !same(oldNode.metadata?.labels, node.metadata?.labels)
  );
}

/** Whether an assigned pod's update changes what the cache holds for it. */
function assignedPodChanged(oldPod: KObject, pod: KObject): boolean {
  return (
    oldPod.spec?.nodeName !== pod.spec?.nodeName ||
    oldPod.metadata?.deletionTimestamp !== pod.metadata?.deletionTimestamp ||
    oldPod.metadata?.uid !== pod.metadata?.uid ||
    JSON.stringify(oldPod.metadata?.labels) !== JSON.stringify(pod.metadata?.labels) ||
    JSON.stringify(oldPod.spec?.containers?.map((c: KObject) => c.resources)) !== JSON.stringify(pod.spec?.containers?.map((c: KObject) => c.resources))
  );
}

export class Scheduler {
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly metrics: SchedulerMetrics;
  readonly schedulerName: string;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly namespaces: Informer;
  private readonly now: () => Date;
  private readonly log: (m: Record<string, unknown>) => void;
  private readonly abort = new AbortController();
  private readonly maxInFlightBindings: number;
  private readonly bindings = new Set<Promise<void>>();
  private bindingSlotWaiter?: () => void;
  private loop?: Promise<void>;

  constructor(private readonly opts: SchedulerOptions) {
    this.schedulerName = opts.schedulerName ?? defaultSchedulerName;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log ?? (() => {});
    this.maxInFlightBindings = opts.maxInFlightBindings ?? 512;
    this.pods = opts.informers.for(Resources.pods);
    this.nodes = opts.informers.for(Resources.nodes);
    this.namespaces = opts.informers.for(Resources.namespaces);
    this.cache = new SchedulerCache((ns) => this.namespaces.getByName(undefined, ns)?.metadata?.labels ?? (this.namespaces.getByName(undefined, ns) ? {} : undefined));
    this.framework = new Framework(this.cache, opts.registry ?? inTreeRegistry, opts.plugins ?? defaultPlugins, {
      percentageOfNodesToScore: opts.percentageOfNodesToScore,
      random: opts.random,
    });
    const pluginEvents = new Map<string, ReadonlySet<ClusterEvent>>();
    for (const p of this.framework.plugins) if (p.events) pluginEvents.set(p.name, new Set(p.events));
    this.queue = new SchedulingQueue({ ...(opts.queue ?? {}), clock: opts.clock ?? realClock, pluginEvents });
    this.metrics = newMetrics(() => this.queue.pending());

    if (opts.signal.aborted) this.abort.abort();
    else opts.signal.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.abort.signal.addEventListener('abort', () => this.queue.close(), { once: true });

    this.nodes.addEventHandlers({
      add: (n) => this.onNodeAdd(n),
      update: (o, n) => this.onNodeUpdate(o, n),
      delete: (n) => this.cache.removeNode(n.metadata!.name!),
    });
    this.pods.addEventHandlers({
      add: (p) => this.onPodAdd(p),
      update: (o, p) => this.onPodUpdate(o, p),
      delete: (p) => this.onPodDelete(p),
    });
  }

  /** Waits for the informers, then schedules until stopped. */
  start(): void {
    this.loop ??= this.run().catch((err) => this.log({ level: 'error', msg: 'scheduler stopped', error: String(err) }));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.bindings]);
  }

  private responsibleFor(pod: KObject): boolean {
    return (pod.spec?.schedulerName || defaultSchedulerName) === this.schedulerName;
  }

  // ---- informer handlers: only update the cache and the queue ----

  private onNodeAdd(node: KObject): void {
    this.cache.setNode(node);
    this.queue.moveAllToActiveOrBackoff('NodeAdd');
  }

  private onNodeUpdate(oldNode: KObject, node: KObject): void {
    this.cache.setNode(node);
    if (nodeSchedulingChanged(oldNode, node)) this.queue.moveAllToActiveOrBackoff('NodeUpdate');
  }

  private onPodAdd(pod: KObject): void {
    if (isAssigned(pod)) {
      if (isTerminal(pod)) return;
      this.cache.addOrUpdatePod(newPodInfo(pod));
      this.queue.moveAllToActiveOrBackoff('AssignedPodAdd');
      return;
    }
    if (!this.responsibleFor(pod) || isTerminal(pod) || pod.metadata?.deletionTimestamp) return;
    const pi = newPodInfo(pod);
    this.queue.add(pi);
    this.trackNomination(pi);
  }

  private onPodUpdate(oldPod: KObject, pod: KObject): void {
    const key = keyOf(pod);
    if (isAssigned(pod)) {
      if (!isAssigned(oldPod)) {
        this.queue.delete(key);
        this.framework.clearNominated(key);
      }
      if (isTerminal(pod)) {
        // Finished pods free their node, as if deleted (kube's informer filters them out).
        if (this.cache.removePod(key)) this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
        return;
      }
      const known = this.cache.hasPod(key) && !this.cache.isAssumed(key);
      if (known && isAssigned(oldPod) && !assignedPodChanged(oldPod, pod)) {
        this.cache.refreshPod(key, pod);
        return;
      }
      this.cache.addOrUpdatePod(newPodInfo(pod));
      this.queue.moveAllToActiveOrBackoff(isAssigned(oldPod) ? 'AssignedPodUpdate' : 'AssignedPodAdd');
      return;
    }
    if (!this.responsibleFor(pod) || isTerminal(pod) || pod.metadata?.deletionTimestamp) {
      this.queue.delete(key);
      this.framework.clearNominated(key);
      return;
    }
    const pi = newPodInfo(pod);
    this.queue.update(pi);
    this.trackNomination(pi);
  }

  private onPodDelete(pod: KObject): void {
    const key = keyOf(pod);
    if (this.cache.hasPod(key)) {
      this.cache.removePod(key);
      this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
      return;
    }
    this.queue.delete(key);
    this.framework.clearNominated(key);
  }

  private trackNomination(pi: PodInfo): void {
    const nominated = pi.pod.status?.nominatedNodeName as string | undefined;
    if (nominated) this.framework.setNominated(pi, nominated);
    else this.framework.clearNominated(pi.key);
  }

  // ---- the scheduling loop ----

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    this.opts.informers.start(this.opts.signal);
    await Promise.race([
      Promise.all([this.pods.waitForSync(), this.nodes.waitForSync(), this.namespaces.waitForSync()]),
      new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true })),
    ]);
    let sliceStart = performance.now();
    while (!signal.aborted) {
      const q = await this.queue.pop();
      if (!q || signal.aborted) break;
      this.scheduleOne(q);
      if (this.bindings.size >= this.maxInFlightBindings) {
        await new Promise<void>((resolve) => (this.bindingSlotWaiter = resolve));
        sliceStart = performance.now();
      } else if (performance.now() - sliceStart > 10) {
        // Let watch events, binding replies and timers run between bursts of cycles.
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
  }

  /** One scheduling cycle: synchronous up to the decision; binding runs on its own. */
  scheduleOne(q: QueuedPodInfo): void {
    const live = this.pods.get(q.key);
    if (
      !live ||
      live.metadata?.uid !== q.podInfo.uid ||
      isAssigned(live) ||
      live.metadata?.deletionTimestamp ||
      !this.responsibleFor(live) ||
      this.cache.hasPod(q.key)
    ) {
      this.queue.done(q);
      return;
    }
    const podInfo = live.metadata?.resourceVersion === q.podInfo.pod.metadata?.resourceVersion ? q.podInfo : newPodInfo(live);
    const start = performance.now();
    const state = new CycleState();
    let nodeName: string;
    try {
      const result = this.framework.schedulePod(podInfo, state);
      nodeName = result.nodeName;
      this.metrics.lastEvaluatedNodes = result.evaluatedNodes;
    } catch (err) {
      this.handleFailure(q, podInfo, state, err, start);
      return;
    }
    const assumed = this.cache.assumePod(podInfo, nodeName);
    const p = this.bind(q, assumed, nodeName, start);
    this.bindings.add(p);
    void p.finally(() => {
      this.bindings.delete(p);
      const w = this.bindingSlotWaiter;
      this.bindingSlotWaiter = undefined;
      w?.();
    });
  }

  private async bind(q: QueuedPodInfo, pod: PodInfo, nodeName: string, start: number): Promise<void> {
    this.metrics.bindings.inFlight++;
    try {
      await this.opts.client.createSubresource(Resources.pods, pod.namespace, pod.name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      });
    } catch (err) {
      this.metrics.bindings.failed++;
      this.cache.forgetPod(pod.key);
      // The node's resources are free again for pods that were waiting on them.
      this.queue.moveAllToActiveOrBackoff('AssignedPodDelete');
      this.handleFailure(q, pod, undefined, err, start);
      return;
    } finally {
      this.metrics.bindings.inFlight--;
    }
    this.metrics.bindings.succeeded++;
    this.record('scheduled', start);
    if (q.initialAttemptTimestamp !== undefined) {
      observe(this.metrics.podSchedulingSliDuration, Math.max(0, ((this.opts.clock ?? realClock).now() - q.initialAttemptTimestamp) / 1000));
    }
    this.queue.done(q);
    this.opts.recorder.event(pod.pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`);
  }

  private record(result: AttemptResult, start: number): void {
    this.metrics.scheduleAttempts[result]++;
    observe(this.metrics.schedulingAttemptDuration[result], (performance.now() - start) / 1000);
  }

  /**
   * kube's handleSchedulingFailure: PostFilter (preemption) for fit errors, requeue unless
   * the pod is gone or bound meanwhile, then the FailedScheduling event and the
   * PodScheduled=False condition (reason Unschedulable, or SchedulerError for errors).
   */
  private handleFailure(q: QueuedPodInfo, pod: PodInfo, state: CycleState | undefined, err: unknown, start: number): void {
    let rejected = false;
    let plugins: Set<string> | undefined;
    let nominatedNodeName: string | undefined;
    if (err instanceof FitError) {
      rejected = true;
      plugins = err.diagnosis.unschedulablePlugins;
      const post = this.framework.runPostFilter(state ?? new CycleState(), pod, err);
      if (post && post.status.code !== 'Success') err.postFilterMsg = post.status.reasons.join(', ');
      else if (post?.nominatedNodeName) {
        nominatedNodeName = post.nominatedNodeName;
        this.preempt(pod, post.nominatedNodeName, post.victims ?? []);
      }
    } else if (err instanceof NoNodesAvailableError) rejected = true;
    const message = err instanceof Error ? err.message : String(err);
    this.record(rejected ? 'unschedulable' : 'error', start);

    const live = this.pods.get(pod.key);
    if (!live || live.metadata?.uid !== pod.uid || isAssigned(live)) this.queue.done(q);
    else this.queue.addUnschedulable(q, { rejected, unschedulablePlugins: plugins });
    if (rejected) this.log({ level: 'info', msg: 'Unable to schedule pod; no fit; waiting', pod: pod.key, err: message });
    else this.log({ level: 'error', msg: 'Error scheduling pod; retrying', pod: pod.key, err: message });
    if (live && isAssigned(live)) return;

    this.opts.recorder.event(pod.pod, 'Warning', 'FailedScheduling', truncateMessage(message));
    if (live) void this.setUnschedulableCondition(live, rejected ? 'Unschedulable' : 'SchedulerError', message, nominatedNodeName);
  }

  /** Writes PodScheduled=False (and nominatedNodeName) unless the pod already says so. */
  private async setUnschedulableCondition(pod: KObject, reason: string, message: string, nominatedNodeName?: string): Promise<void> {
    const conditions = (pod.status?.conditions as KObject[] | undefined) ?? [];
    const old = conditions.find((c) => c.type === 'PodScheduled');
    const nominationChanged = nominatedNodeName !== undefined && pod.status?.nominatedNodeName !== nominatedNodeName;
    if (old && old.status === 'False' && old.reason === reason && old.message === message && !nominationChanged) return;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      lastProbeTime: null,
      lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(this.now()),
      reason,
      message,
    };
    try {
      await this.patchCondition(pod, condition, nominationChanged ? nominatedNodeName : undefined);
    } catch (err) {
      this.log({ level: 'warn', msg: 'Error updating pod', pod: keyOf(pod), error: String(err) });
    }
  }

  /**
   * Sets one pod condition through the status subresource: a JSON patch guarded by a test of
   * the condition's position (it keeps `lastProbeTime: null` as kube's typed encoding shows
   * it), falling back to a strategic merge patch keyed by type when the pod moved on.
   */
  private async patchCondition(pod: KObject, condition: KObject, nominatedNodeName?: string): Promise<void> {
    const ns = pod.metadata?.namespace;
    const name = pod.metadata!.name!;
    const conditions = pod.status?.conditions as KObject[] | undefined;
    const ops: KObject[] = [];
    if (!pod.status) ops.push({ op: 'add', path: '/status', value: { conditions: [condition] } });
    else if (!Array.isArray(conditions)) ops.push({ op: 'add', path: '/status/conditions', value: [condition] });
    else {
      const i = conditions.findIndex((c) => c.type === condition.type);
      if (i < 0) ops.push({ op: 'add', path: '/status/conditions/-', value: condition });
      else ops.push({ op: 'test', path: `/status/conditions/${i}/type`, value: condition.type }, { op: 'replace', path: `/status/conditions/${i}`, value: condition });
    }
    if (nominatedNodeName !== undefined) ops.push({ op: 'add', path: '/status/nominatedNodeName', value: nominatedNodeName });
    try {
      await this.opts.client.patch(Resources.pods, ns, name, 'json', ops, { subresource: 'status' });
    } catch {
      const patch: KObject = { status: { conditions: [condition], ...(nominatedNodeName !== undefined ? { nominatedNodeName } : {}) } };
      await this.opts.client.patch(Resources.pods, ns, name, 'strategic', patch, { subresource: 'status' });
    }
  }

  /** Evicts the victims (DisruptionTarget condition, then delete) and nominates the node. */
  private preempt(pod: PodInfo, nodeName: string, victims: PodInfo[]): void {
    this.metrics.preemptionAttempts++;
    this.metrics.preemptionVictims += victims.length;
    this.framework.setNominated(pod, nodeName);
    const client = this.opts.client;
    for (const lower of this.framework.nominatedPods(nodeName)) {
      if (lower.key === pod.key || lower.priority >= pod.priority) continue;
      // Lower-priority pods nominated to this node lose their claim to it.
      this.framework.clearNominated(lower.key);
      void client.patch(Resources.pods, lower.namespace, lower.name, 'merge', { status: { nominatedNodeName: null } }, { subresource: 'status' }).catch(() => {});
    }
    for (const v of victims) {
      void (async () => {
        try {
          const condition = {
            type: 'DisruptionTarget',
            status: 'True',
            lastProbeTime: null,
            lastTransitionTime: rfc3339(this.now()),
            reason: 'PreemptionByScheduler',
            message: `${this.schedulerName}: preempting to accommodate a higher priority pod`,
          };
          await this.patchCondition(this.pods.get(v.key) ?? v.pod, condition).catch(() => {});
          await client.delete(Resources.pods, v.namespace, v.name, { preconditions: { uid: v.uid } });
          this.opts.recorder.event(v.pod, 'Normal', 'Preempted', `Preempted by pod ${pod.uid} on node ${nodeName}`);
        } catch (err) {
          this.log({ level: 'warn', msg: 'preemption: deleting victim failed', pod: v.key, error: String(err) });
        }
      })();
    }
  }
}
