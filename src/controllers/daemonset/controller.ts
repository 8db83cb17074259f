/**
 * @module kube-controller-manager's daemonset-controller: one daemon pod per eligible node,
 * pinned to it through required node affinity on metadata.name (the default scheduler
 * places it); follows nodes joining, changing and leaving; replaces failed daemon pods with
 * a backoff; rolls template changes out under maxUnavailable or maxSurge; reports
 * desired/current/ready/available/up-to-date/misscheduled counts.
 */
import { templateGenerationAnnotation } from '../../api/kinds/apps-daemonset.js';
import { fromLabelSelector } from '../../api/selectors/index.js';
import type { KObject } from '../../api/types.js';
import { Resources, WorkQueue, keyOf, type EventRecorder, type Informer } from '../../client/index.js';
import {
  claimCandidates,
  claimObjects,
  computeHash,
  controllerOf,
  ControllerExpectations,
  controllerRefOf,
  DelayedRequeue,
  errorMessage,
  indexByControllerUid,
  isConflict,
  isNotFound,
  isPodAvailable,
  isPodReady,
  isPodTerminal,
  newControllerRef,
  ownersSelecting,
  parseTime,
  podFromTemplate,
  runController,
  semanticEqual,
  slowStartBatch,
  slowStartInitialBatchSize,
} from '../common/index.js';
import type { Controller, ControllerContext } from '../types.js';
import { addDaemonPodTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './node-eligibility.js';

export const revisionHashLabel = 'controller-revision-hash';
export const templateGenerationLabel = 'pod-template-generation';

/** Failed daemon pods on a node are replaced after 1 s, doubling to 15 min. */
const failedPodBackoffInitialMs = 1000;
const failedPodBackoffMaxMs = 15 * 60_000;

/** The spec.templateGeneration of a DaemonSet (its v1 annotation), if set. */
function templateGeneration(ds: KObject): string | undefined {
  const v = ds.metadata?.annotations?.[templateGenerationAnnotation];
  return typeof v === 'string' && /^\d+$/.test(v) ? v : undefined;
}

/** IsPodUpdated: the pod carries the current template hash (or the current template generation). */
export function isPodUpdated(pod: KObject, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata?.labels ?? {};
  return (!!hash && labels[revisionHashLabel] === hash) || (generation !== undefined && labels[templateGenerationLabel] === generation);
}

/** podByCreationTimestampAndPhase: scheduled first, then oldest, then by name. */
function compareByCreation(a: KObject, b: KObject): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ca = parseTime(a.metadata?.creationTimestamp) ?? 0;
  const cb = parseTime(b.metadata?.creationTimestamp) ?? 0;
  if (ca !== cb) return ca - cb;
  return String(a.metadata?.name).localeCompare(String(b.metadata?.name));
}

/** GetScaledValueFromIntOrPercent, rounding up. */
function scaled(v: unknown, total: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (m) return Math.ceil((Number(m[1]) * total) / 100);
    if (/^\d+$/.test(v)) return Number(v);
  }
  return 0;
}

/** findUpdatedPodsOnNode: the node's one new and one old pod, ignoring terminating ones; ok=false when there are more. */
function findUpdatedPodsOnNode(pods: KObject[], hash: string, generation: string | undefined): { newPod?: KObject; oldPod?: KObject; ok: boolean } {
  let newPod: KObject | undefined;
  let oldPod: KObject | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { ok: false };
      newPod = pod;
    } else {
      if (oldPod) return { ok: false };
      oldPod = pod;
    }
  }
  return { newPod, oldPod, ok: true };
}

interface DaemonStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration: number;
  updatedNumberScheduled: number;
  numberAvailable: number;
  numberUnavailable: number;
}

export class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  readonly queue = new WorkQueue({ name: 'daemonset' });
  readonly requeue = new DelayedRequeue(this.queue);
  private readonly daemonSets: Informer;
  private readonly pods: Informer;
  private readonly nodes: Informer;
  private readonly recorder: EventRecorder;
  private readonly expectations: ControllerExpectations;
  private readonly failedPodsBackoff = new Map<string, { delayMs: number; lastUpdate: number }>();

  constructor(private readonly ctx: ControllerContext) {
    this.recorder = ctx.recorder('daemonset-controller');
    this.expectations = new ControllerExpectations(() => ctx.now().getTime());
    this.daemonSets = ctx.informers.for(Resources.daemonsets);
    this.pods = ctx.informers.for(Resources.pods);
    this.nodes = ctx.informers.for(Resources.nodes);
    indexByControllerUid(this.pods);
    this.daemonSets.addEventHandlers({
      add: (ds) => this.queue.add(keyOf(ds)),
      update: (_o, ds) => this.queue.add(keyOf(ds)),
      delete: (ds) => {
        this.expectations.delete(keyOf(ds));
        this.queue.add(keyOf(ds));
      },
    });
    this.pods.addEventHandlers({
      add: (p) => this.onPod(undefined, p, false),
      update: (o, p) => this.onPod(o, p, false),
      delete: (p) => this.onPod(undefined, p, true),
    });
    this.nodes.addEventHandlers({
      add: () => this.enqueueAll(),
      update: (old, cur) => {
        if (!this.nodeUpdateMatters(old, cur)) return;
        this.enqueueAll();
      },
      delete: () => this.enqueueAll(),
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runController(this.name, this.ctx.log, signal, {
      informers: [this.daemonSets, this.pods, this.nodes],
      pools: [{ queue: this.queue, workers, sync: (k) => this.sync(k) }],
      stopped: () => this.requeue.stop(),
    });
  }

  private enqueueAll(): void {
    for (const ds of this.daemonSets.list()) this.queue.add(keyOf(ds));
  }

  /** shouldIgnoreNodeUpdate: heartbeats (status condition timestamps, resourceVersion) do not move daemon pods. */
  private nodeUpdateMatters(old: KObject, cur: KObject): boolean {
    const strip = (n: KObject) => ({
      labels: n.metadata?.labels,
      spec: n.spec,
      conditions: ((n.status?.conditions ?? []) as KObject[]).map((c) => [c.type, c.status]),
    });
    return !semanticEqual(strip(old), strip(cur));
  }

  private resolve(pod: KObject): KObject | undefined {
    return controllerOf(this.daemonSets, 'DaemonSet', pod);
  }

  private onPod(old: KObject | undefined, pod: KObject, final: boolean): void {
    if (old && old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (old && controllerRefOf(old)?.uid !== controllerRefOf(pod)?.uid) {
      const prev = this.resolve(old);
      if (prev) this.queue.add(keyOf(prev));
    }
    if (!controllerRefOf(pod)) {
      if (final || pod.metadata?.deletionTimestamp) return;
      for (const ds of ownersSelecting(this.daemonSets, pod)) this.queue.add(keyOf(ds));
      return;
    }
    const ds = this.resolve(pod);
    if (!ds) return;
    const key = keyOf(ds);
    if (!old && !final && !pod.metadata?.deletionTimestamp) this.expectations.creationObserved(key);
    else if (final || (pod.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.expectations.deletionObserved(key);
    this.queue.add(key);
  }

  /** The daemon pods of a DaemonSet by target node; finished pods already being deleted are left out. */
  private nodeToDaemonPods(pods: KObject[]): Map<string, KObject[]> {
    const byNode = new Map<string, KObject[]>();
    for (const pod of pods) {
      if (isPodTerminal(pod) && pod.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(pod);
      if (!node) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    return byNode;
  }

  async sync(key: string): Promise<void> {
    const ds = this.daemonSets.get(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    const selector = fromLabelSelector(ds.spec?.selector);
    const candidates = claimCandidates(this.pods, ds);
    const pods = await claimObjects(candidates, {
      client: this.ctx.client,
      resource: Resources.pods,
      controller: ds,
      controllerResource: Resources.daemonsets,
      controllerApiVersion: 'apps/v1',
      controllerKind: 'DaemonSet',
      match: (p) => selector.matches(p.metadata?.labels),
    });
    const nodes = this.nodes.list();
    const byNode = this.nodeToDaemonPods(pods);
    const hash = computeHash(ds.spec?.template ?? {}, ds.status?.collisionCount);
    const generation = templateGeneration(ds);
    let error: unknown;
    if (!ds.metadata?.deletionTimestamp && this.expectations.satisfied(key)) {
      try {
        await this.manage(key, ds, nodes, byNode, pods, hash);
        // Rolling updates wait until manage's own changes are in the cache.
        if (this.expectations.satisfied(key) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate')
          await this.rollingUpdate(key, ds, nodes, byNode, hash, generation);
      } catch (err) {
        error = err;
      }
    }
    await this.updateStatus(key, ds, nodes, byNode, hash, generation);
    if (error) throw error;
  }

  /** manage: daemon pods onto nodes that need one, off nodes that must not have one. */
  private async manage(key: string, ds: KObject, nodes: KObject[], byNode: Map<string, KObject[]>, pods: KObject[], hash: string): Promise<void> {
    const create: string[] = [];
    const remove: KObject[] = [];
    const now = this.ctx.now().getTime();
    const surge = this.maxSurgeAllowed(ds);
    for (const node of nodes) {
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const nodeName = node.metadata?.name ?? '';
      const daemonPods = byNode.get(nodeName) ?? [];
      if (shouldRun && daemonPods.length === 0) {
        create.push(nodeName);
      } else if (shouldContinueRunning) {
        const running: KObject[] = [];
        for (const pod of daemonPods) {
          if (pod.metadata?.deletionTimestamp) continue;
          const phase = pod.status?.phase;
          if (phase === 'Failed') {
            // Kubelets that reject a pod would otherwise fight us in a hot loop.
            const backoffKey = `${key}/${nodeName}`;
            const remaining = this.backoffRemaining(backoffKey, now);
            if (remaining > 0) {
              this.requeue.after(key, remaining);
              continue;
            }
            this.backoffNext(backoffKey, now);
            this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${nodeName}, will try to kill it`);
            remove.push(pod);
          } else if (phase === 'Succeeded') {
            remove.push(pod);
          } else {
            running.push(pod);
          }
        }
        running.sort(compareByCreation);
        if (!surge) {
          // One daemon pod per node: the oldest stays.
          remove.push(...running.slice(1));
        } else {
          // With surge, an old and a new pod may overlap until the new one is available.
          let oldestNew: KObject | undefined;
          let oldestOld: KObject | undefined;
          for (const pod of running) {
            const isNew = pod.metadata?.labels?.[revisionHashLabel] === hash;
            if (isNew && !oldestNew) oldestNew = pod;
            else if (!isNew && !oldestOld) oldestOld = pod;
            else remove.push(pod);
          }
          if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))) remove.push(oldestOld);
        }
      } else if (daemonPods.length) {
        remove.push(...daemonPods.filter((p) => !p.metadata?.deletionTimestamp));
      }
    }
    // Unscheduled daemon pods pinned to nodes that no longer exist.
    const known = new Set(nodes.map((n) => n.metadata?.name));
    for (const pod of pods) {
      const target = targetNodeName(pod);
      if (!pod.spec?.nodeName && target && !known.has(target) && !pod.metadata?.deletionTimestamp) remove.push(pod);
    }
    await this.syncNodes(key, ds, remove, create, hash);
  }

  private maxSurgeAllowed(ds: KObject): boolean {
    const strategy = ds.spec?.updateStrategy ?? {};
    if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') return false;
    const v = strategy.rollingUpdate?.maxSurge;
    return v !== undefined && v !== 0 && v !== '0' && v !== '0%';
  }

  private backoffRemaining(key: string, now: number): number {
    const b = this.failedPodsBackoff.get(key);
    if (!b) return 0;
    const left = b.lastUpdate + b.delayMs - now;
    return left > 0 ? left : 0;
  }

  private backoffNext(key: string, now: number): void {
    const b = this.failedPodsBackoff.get(key);
    // A long-quiet key starts over.
    if (!b || now - b.lastUpdate > 2 * failedPodBackoffMaxMs) this.failedPodsBackoff.set(key, { delayMs: failedPodBackoffInitialMs, lastUpdate: now });
    else this.failedPodsBackoff.set(key, { delayMs: Math.min(b.delayMs * 2, failedPodBackoffMaxMs), lastUpdate: now });
  }

  /** syncNodes: deletes then creates, expecting to see each in the cache before acting again. */
  private async syncNodes(key: string, ds: KObject, remove: KObject[], createOn: string[], hash: string): Promise<void> {
    if (!remove.length && !createOn.length) return;
    this.expectations.expect(key, createOn.length, remove.length);
    const template: KObject = structuredClone(ds.spec?.template ?? {});
    template.spec ??= {};
    addDaemonPodTolerations(template.spec);
    template.metadata ??= {};
    const generation = templateGeneration(ds);
    template.metadata.labels = { ...(template.metadata.labels ?? {}), ...(generation !== undefined ? { [templateGenerationLabel]: generation } : {}), [revisionHashLabel]: hash };
    const ref = newControllerRef(ds, 'apps/v1', 'DaemonSet');
    const { successes, error: createError } = await slowStartBatch(createOn.length, slowStartInitialBatchSize, async (i) => {
      const pod = podFromTemplate(template, ds, ref);
      pinToNode(pod.spec, createOn[i]);
      try {
        const created = await this.ctx.client.create(Resources.pods, ds.metadata?.namespace, pod);
        this.recorder.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name}`);
      } catch (err) {
        this.recorder.event(ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
        throw err;
      }
    });
    for (let i = successes; i < createOn.length; i++) this.expectations.creationObserved(key);
    let deleteError: unknown;
    await Promise.all(
      remove.map(async (pod) => {
        try {
          await this.ctx.client.delete(Resources.pods, pod.metadata?.namespace, pod.metadata!.name!);
          this.recorder.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata?.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (isNotFound(err)) return;
          this.recorder.event(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
          deleteError ??= err;
        }
      }),
    );
    if (createError) throw createError;
    if (deleteError) throw deleteError;
  }

  /** updatedDesiredNodeCounts: maxSurge and maxUnavailable against the desired count (1 unavailable when both are 0). */
  private budgets(ds: KObject, nodes: KObject[]): { maxSurge: number; maxUnavailable: number } {
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
    const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
    let maxUnavailable = scaled(ru.maxUnavailable ?? 1, desired);
    const maxSurge = scaled(ru.maxSurge ?? 0, desired);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    return { maxSurge, maxUnavailable };
  }

  /** rollingUpdate: old pods go (or new ones surge in) within the budgets. */
  private async rollingUpdate(key: string, ds: KObject, nodes: KObject[], byNode: Map<string, KObject[]>, hash: string, generation: string | undefined): Promise<void> {
    const { maxSurge, maxUnavailable } = this.budgets(ds, nodes);
    const now = this.ctx.now().getTime();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const eligible = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).map((n) => n.metadata!.name as string);
    if (maxSurge === 0) {
      let numUnavailable = 0;
      const allowedReplacements: KObject[] = [];
      const candidates: KObject[] = [];
      for (const nodeName of eligible) {
        const { newPod, oldPod, ok } = findUpdatedPodsOnNode(byNode.get(nodeName) ?? [], hash, generation);
        if (!ok) {
          numUnavailable++;
          continue;
        }
        if ((!oldPod && !newPod) || (oldPod && newPod)) numUnavailable++;
        else if (newPod) {
          if (!isPodAvailable(newPod, minReady, now)) numUnavailable++;
        } else if (oldPod) {
          // An unavailable old pod costs nothing to replace.
          if (!isPodAvailable(oldPod, minReady, now)) allowedReplacements.push(oldPod);
          else if (numUnavailable < maxUnavailable) candidates.push(oldPod);
        }
      }
      const remaining = Math.max(0, Math.min(maxUnavailable - numUnavailable, candidates.length));
      await this.syncNodes(key, ds, [...allowedReplacements, ...candidates.slice(0, remaining)], [], hash);
      return;
    }
    let numSurge = 0;
    const allowedNew: string[] = [];
    const candidateNew: string[] = [];
    const oldToDelete: KObject[] = [];
    for (const nodeName of eligible) {
      const { newPod, oldPod, ok } = findUpdatedPodsOnNode(byNode.get(nodeName) ?? [], hash, generation);
      if (!ok) {
        numSurge++;
        continue;
      }
      if (!oldPod) continue;
      if (!newPod) {
        if (!isPodAvailable(oldPod, minReady, now)) allowedNew.push(nodeName);
        else if (numSurge < maxSurge) candidateNew.push(nodeName);
      } else if (!isPodAvailable(newPod, minReady, now)) {
        numSurge++;
      } else {
        oldToDelete.push(oldPod);
      }
    }
    const remaining = Math.max(0, Math.min(maxSurge - numSurge, candidateNew.length));
    await this.syncNodes(key, ds, oldToDelete, [...allowedNew, ...candidateNew.slice(0, remaining)], hash);
  }

  /** updateDaemonSetStatus: counted per node from the oldest daemon pod on it; written only on change. */
  private async updateStatus(key: string, ds: KObject, nodes: KObject[], byNode: Map<string, KObject[]>, hash: string, generation: string | undefined): Promise<void> {
    const now = this.ctx.now().getTime();
    const minReady = ds.spec?.minReadySeconds ?? 0;
    const s: DaemonStatus = {
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
      observedGeneration: ds.metadata?.generation ?? 0,
      updatedNumberScheduled: 0,
      numberAvailable: 0,
      numberUnavailable: 0,
    };
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = [...(byNode.get(node.metadata?.name ?? '') ?? [])];
      if (!shouldRun) {
        if (pods.length) s.numberMisscheduled++;
        continue;
      }
      s.desiredNumberScheduled++;
      if (!pods.length) continue;
      s.currentNumberScheduled++;
      const pod = pods.sort(compareByCreation)[0];
      if (isPodReady(pod)) {
        s.numberReady++;
        if (isPodAvailable(pod, minReady, now)) s.numberAvailable++;
      }
      if (isPodUpdated(pod, hash, generation)) s.updatedNumberScheduled++;
    }
    s.numberUnavailable = s.desiredNumberScheduled - s.numberAvailable;
    if (minReady > 0 && s.numberReady !== s.numberAvailable) this.requeue.after(key, minReady * 1000);
    const old = ds.status ?? {};
    const same = (Object.keys(s) as Array<keyof DaemonStatus>).every((f) => (old[f] ?? 0) === s[f]);
    if (same) return;
    let target: KObject = ds;
    for (let attempt = 0; ; attempt++) {
      const status: KObject = { ...(target.status ?? {}), ...s };
      // numberUnavailable is omitted when zero.
      if (!status.numberUnavailable) delete status.numberUnavailable;
      try {
        await this.ctx.client.update(Resources.daemonsets, ds.metadata?.namespace, { ...target, status }, { subresource: 'status' });
        return;
      } catch (err) {
        if (attempt >= 3 || !isConflict(err)) throw err;
        target = await this.ctx.client.get(Resources.daemonsets, ds.metadata?.namespace, ds.metadata!.name!);
        if (target.metadata?.uid !== ds.metadata?.uid) return;
      }
    }
  }
}
