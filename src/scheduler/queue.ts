/**
 * @module kube-scheduler's scheduling queue: activeQ (a heap by priority, then creation
 * time), backoffQ (pods waiting out a per-pod backoff of 1 s doubling per attempt up to
 * 10 s) and unschedulable pods, which go back when a cluster event one of the plugins that
 * rejected them cares about happens (queueing hints), or after 5 minutes at most.
 * Pods with scheduling gates wait apart until their gates are removed.
 */
import { realClock, type Clock } from '../client/index.js';
import type { ClusterEvent } from './framework.js';
import type { PodInfo } from './types.js';

export type QueueName = 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inFlight';

/** A pod as the queue knows it: attempts, backoff and who rejected it last. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  readonly key: string;
  /** Scheduling attempts so far (counted when popped). */
  attempts: number;
  /** When the pod entered the queue, or last failed: backoff counts from here. */
  timestamp: number;
  /** First pop, for end-to-end scheduling latency. */
  initialAttemptTimestamp?: number;
  /** Plugins that rejected the pod in its last attempt (empty: an error, or never tried). */
  unschedulablePlugins: Set<string>;
  /** Insertion order, the last tie-breaker. */
  readonly seq: number;
  /** The scheduling cycle that popped it (while in flight). */
  cycle: number;
  where: QueueName;
  heapIndex: number;
  /** Updated (spec or labels) while being scheduled. */
  updatedInFlight?: boolean;
  deletedInFlight?: boolean;
}

export interface SchedulingQueueOptions {
  clock?: Clock;
  /** kube's podInitialBackoffDuration: 1 s. */
  initialBackoffMs?: number;
  /** kube's podMaxBackoffDuration: 10 s. */
  maxBackoffMs?: number;
  /** kube's podMaxInUnschedulablePodsDuration: 5 min. */
  maxInUnschedulableMs?: number;
  /** How often unschedulable pods are checked against maxInUnschedulableMs (kube: 30 s). */
  unschedulableFlushIntervalMs?: number;
  /** Which cluster events each plugin's rejections may be resolved by. */
  pluginEvents?: ReadonlyMap<string, ReadonlySet<ClusterEvent>>;
}

/** A binary heap that records each item's index, so items can be removed or re-sifted. */
class Heap {
  private readonly items: QueuedPodInfo[] = [];
  constructor(private readonly less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): QueuedPodInfo | undefined {
    return this.items[0];
  }

  push(q: QueuedPodInfo): void {
    q.heapIndex = this.items.length;
    this.items.push(q);
    this.up(q.heapIndex);
  }

  pop(): QueuedPodInfo | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  remove(q: QueuedPodInfo): void {
    const i = q.heapIndex;
    if (i >= 0 && i < this.items.length && this.items[i] === q) this.removeAt(i);
  }

  private removeAt(i: number): QueuedPodInfo {
    const items = this.items;
    const out = items[i];
    const last = items.pop()!;
    if (i < items.length) {
      items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(i);
    }
    out.heapIndex = -1;
    return out;
  }

  private up(i: number): void {
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i], items[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < items.length && this.less(items[l], items[m])) m = l;
      if (r < items.length && this.less(items[r], items[m])) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const items = this.items;
    const t = items[a];
    items[a] = items[b];
    items[b] = t;
    items[a].heapIndex = a;
    items[b].heapIndex = b;
  }
}

/** PrioritySort's Less: higher priority first, then older pods, then queue order. */
export function activeLess(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  const pa = a.podInfo.priority;
  const pb = b.podInfo.priority;
  if (pa !== pb) return pa > pb;
  if (a.podInfo.createdAt !== b.podInfo.createdAt) return a.podInfo.createdAt < b.podInfo.createdAt;
  return a.seq < b.seq;
}

/** What changed in a pending pod that could change the scheduling decision. */
function schedulingRelevant(p: PodInfo): string {
  const meta = p.pod.metadata ?? {};
  return JSON.stringify([p.pod.spec, meta.labels, meta.annotations]);
}

export class SchedulingQueue {
  private readonly pods = new Map<string, QueuedPodInfo>();
  private readonly activeQ = new Heap(activeLess);
  private readonly backoffQ: Heap;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly gated = new Map<string, QueuedPodInfo>();
  private readonly waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly flushIntervalMs: number;
  private readonly pluginEvents: ReadonlyMap<string, ReadonlySet<ClusterEvent>>;
  private seq = 0;
  private cycle = 0;
  /** The scheduling cycle during which each kind of cluster event last happened. */
  private readonly eventCycles = new Map<ClusterEvent, number>();
  private backoffTimer: unknown;
  private backoffTimerAt = Infinity;
  private flushTimer: unknown;
  private closed = false;

  constructor(opts: SchedulingQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = opts.maxInUnschedulableMs ?? 5 * 60_000;
    this.flushIntervalMs = opts.unschedulableFlushIntervalMs ?? 30_000;
    this.pluginEvents = opts.pluginEvents ?? new Map();
    this.backoffQ = new Heap((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
    this.armFlush();
  }

  /** The number of scheduling cycles started (pops). */
  get schedulingCycle(): number {
    return this.cycle;
  }

  /** Pending pods per queue (kube's scheduler_pending_pods). */
  pending(): Record<'active' | 'backoff' | 'unschedulable' | 'gated', number> {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size, gated: this.gated.size };
  }

  /** Where a pod is, for tests and debugging. */
  whereIs(key: string): QueueName | undefined {
    return this.pods.get(key)?.where;
  }

  /** A new pending pod. */
  add(podInfo: PodInfo): void {
    if (this.closed) return;
    const existing = this.pods.get(podInfo.key);
    // A pod deleted while being scheduled and created again under its name is a new pod.
    if (existing && !existing.deletedInFlight) return this.update(podInfo);
    const q: QueuedPodInfo = {
      podInfo,
      key: podInfo.key,
      attempts: 0,
      timestamp: this.clock.now(),
      unschedulablePlugins: new Set(),
      seq: this.seq++,
      cycle: -1,
      where: 'active',
      heapIndex: -1,
    };
    this.pods.set(q.key, q);
    if (podInfo.schedulingGated) this.toGated(q);
    else this.toActive(q);
  }

  /** A newer version of a pending pod. */
  update(podInfo: PodInfo): void {
    if (this.closed) return;
    const q = this.pods.get(podInfo.key);
    if (!q) return this.add(podInfo);
    const changed = schedulingRelevant(q.podInfo) !== schedulingRelevant(podInfo);
    q.podInfo = podInfo;
    switch (q.where) {
      case 'inFlight':
        if (changed) q.updatedInFlight = true;
        return;
      case 'gated':
        if (!podInfo.schedulingGated) {
          this.gated.delete(q.key);
          this.toActive(q);
        }
        return;
      case 'unschedulable':
        // A changed pod may fit now: try it again (after its backoff).
        if (changed) {
          this.unschedulable.delete(q.key);
          this.toActiveOrBackoff(q);
        }
        return;
      default:
        return;
    }
  }

  /** The pod is gone, bound, or no longer ours. */
  delete(key: string): void {
    const q = this.pods.get(key);
    if (!q) return;
    if (q.where === 'inFlight') {
      q.deletedInFlight = true;
      return;
    }
    this.detach(q);
    this.pods.delete(key);
  }

  /** Waits for the next pod to schedule; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.tryPop();
    if (q || this.closed) return Promise.resolve(q);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next pod, or undefined when activeQ is empty. */
  tryPop(): QueuedPodInfo | undefined {
    const q = this.activeQ.pop();
    if (!q) return undefined;
    this.startFlight(q);
    return q;
  }

  private startFlight(q: QueuedPodInfo): void {
    q.where = 'inFlight';
    q.cycle = ++this.cycle;
    q.attempts++;
    q.initialAttemptTimestamp ??= this.clock.now();
    q.updatedInFlight = false;
  }

  /** The attempt that popped the pod ended with the pod assumed or gone. */
  done(q: QueuedPodInfo): void {
    if (q.where === 'inFlight' && this.pods.get(q.key) === q) this.pods.delete(q.key);
  }

  /**
   * The attempt failed: rejected pods wait among the unschedulable ones unless a relevant
   * event happened during the attempt; errors (and those) retry after their backoff.
   */
  addUnschedulable(q: QueuedPodInfo, opts: { rejected: boolean; unschedulablePlugins?: Set<string> }): void {
    const key = q.key;
    if (q.where !== 'inFlight' || this.pods.get(key) !== q) return;
    if (q.deletedInFlight || this.closed) {
      this.pods.delete(key);
      return;
    }
    q.timestamp = this.clock.now();
    q.unschedulablePlugins = opts.unschedulablePlugins ?? new Set();
    if (!opts.rejected || q.updatedInFlight || this.missedEvent(q)) this.toActiveOrBackoff(q);
    else {
      q.where = 'unschedulable';
      this.unschedulable.set(key, q);
    }
  }

  /**
   * A cluster event: unschedulable pods that one of their rejecting plugins expects this
   * event to help go back to activeQ, or to backoffQ while their backoff lasts.
   */
  moveAllToActiveOrBackoff(event: ClusterEvent): void {
    this.eventCycles.set(event, this.cycle);
    if (this.unschedulable.size === 0) return;
    for (const q of [...this.unschedulable.values()]) {
      if (!this.interested(q, event)) continue;
      this.unschedulable.delete(q.key);
      this.toActiveOrBackoff(q);
    }
  }

  /** Whether an event that could help the pod happened while it was being scheduled. */
  private missedEvent(q: QueuedPodInfo): boolean {
    for (const [event, cycle] of this.eventCycles) if (cycle >= q.cycle && this.interested(q, event)) return true;
    return false;
  }

  private interested(q: QueuedPodInfo, event: ClusterEvent): boolean {
    if (q.unschedulablePlugins.size === 0) return true;
    for (const p of q.unschedulablePlugins) {
      const events = this.pluginEvents.get(p);
      // Plugins that declare no events are retried on anything.
      if (!events || events.has(event)) return true;
    }
    return false;
  }

  /** kube's calculateBackoffDuration: initial × 2^(attempts−1), at most max. */
  backoffDuration(q: QueuedPodInfo): number {
    let d = this.initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d > this.maxBackoffMs) return this.maxBackoffMs;
    }
    return Math.min(d, this.maxBackoffMs);
  }

  private backoffExpiry(q: QueuedPodInfo): number {
    return q.attempts === 0 ? q.timestamp : q.timestamp + this.backoffDuration(q);
  }

  private toActiveOrBackoff(q: QueuedPodInfo): void {
    if (this.backoffExpiry(q) > this.clock.now()) this.toBackoff(q);
    else this.toActive(q);
  }

  private toActive(q: QueuedPodInfo): void {
    q.where = 'active';
    const waiter = this.waiters.shift();
    if (waiter) {
      this.startFlight(q);
      waiter(q);
      return;
    }
    this.activeQ.push(q);
  }

  private toBackoff(q: QueuedPodInfo): void {
    q.where = 'backoff';
    this.backoffQ.push(q);
    this.armBackoff();
  }

  private toGated(q: QueuedPodInfo): void {
    q.where = 'gated';
    this.gated.set(q.key, q);
  }

  private detach(q: QueuedPodInfo): void {
    switch (q.where) {
      case 'active':
        this.activeQ.remove(q);
        break;
      case 'backoff':
        this.backoffQ.remove(q);
        break;
      case 'unschedulable':
        this.unschedulable.delete(q.key);
        break;
      case 'gated':
        this.gated.delete(q.key);
        break;
      default:
        break;
    }
  }

  /** Moves pods whose backoff has expired to activeQ (kube flushes every second; we wake exactly). */
  flushBackoffCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const q = this.backoffQ.peek();
      if (!q || this.backoffExpiry(q) > now) break;
      this.backoffQ.pop();
      this.toActive(q);
    }
    this.armBackoff();
  }

  private armBackoff(): void {
    if (this.closed) return;
    const q = this.backoffQ.peek();
    const at = q ? this.backoffExpiry(q) : Infinity;
    if (at === this.backoffTimerAt) return;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.backoffTimerAt = at;
    if (at === Infinity) return;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.backoffTimerAt = Infinity;
      this.flushBackoffCompleted();
    }, Math.max(0, at - this.clock.now()));
  }

  /** Pods unschedulable for longer than maxInUnschedulableMs get another try regardless. */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const q of [...this.unschedulable.values()]) {
      if (now - q.timestamp < this.maxInUnschedulableMs) continue;
      this.unschedulable.delete(q.key);
      this.toActiveOrBackoff(q);
    }
  }

  private armFlush(): void {
    if (this.closed) return;
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushUnschedulableLeftover();
      this.armFlush();
    }, this.flushIntervalMs);
  }

  /** Stops timers and releases waiting pops with undefined. */
  close(): void {
    this.closed = true;
    if (this.backoffTimer !== undefined) this.clock.clearTimeout(this.backoffTimer);
    if (this.flushTimer !== undefined) this.clock.clearTimeout(this.flushTimer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
