/**
 * @module Test-only harness for controller unit tests: the real REST pipeline over an
 * in-memory SQLite store, a loopback client, a settable clock shared by the API and the
 * controllers, informers the test refreshes explicitly (so a test decides when a
 * controller sees a write — stale caches included) or starts for real (run() tests), and
 * stand-ins for the scheduler and node agent that bind pods, set their status and finish
 * graceful deletions.
 */
import { allResources } from '../../api/kinds/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { ResourceRegistry } from '../../apiserver/registry.js';
import { RestStorage } from '../../apiserver/rest.js';
import { EventRecorder, Informer, InformerFactory, Resources, type Client, type Gvr, type InformerOptions } from '../../client/index.js';
import { openStore, type Store } from '../../storage/store.js';
import '../../storage/sqlite/index.js';
import { defaultControllerOptions, type ControllerContext } from '../types.js';
import { rfc3339 } from './time.js';

/** Remembers every informer handed out so the test can refresh them all. */
class RecordingInformerFactory extends InformerFactory {
  readonly handedOut: Informer[] = [];

  override for(resource: Gvr, opts: Omit<InformerOptions, 'log'> = {}): Informer {
    const inf = super.for(resource, opts);
    if (!this.handedOut.includes(inf)) this.handedOut.push(inf);
    return inf;
  }
}

/** Something with a sync(key) over the keys of one informer. */
export interface Syncable {
  sync(key: string): Promise<void>;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export class ControllerTestEnv {
  now: Date;
  readonly recorders: EventRecorder[] = [];
  readonly informers: RecordingInformerFactory;
  readonly ctx: ControllerContext;
  readonly logs: Array<Record<string, unknown>> = [];
  /** Errors of syncs run by settle() (conflicts on a stale cache are normal and retried). */
  readonly syncErrors: unknown[] = [];
  /** Client the controllers use; tests may swap in a wrapper before building controllers. */
  controllerClient: Client;
  private eventTick = 0;

  private constructor(
    readonly store: Store,
    readonly rest: RestStorage,
    readonly client: LoopbackClient,
    start: Date,
  ) {
    this.now = start;
    this.controllerClient = client;
    this.informers = new RecordingInformerFactory(client);
    const self = this;
    this.ctx = {
      get client() {
        return self.controllerClient;
      },
      informers: this.informers,
      now: () => this.now,
      recorder: (component) => {
        // Each event a millisecond after the previous one: event names carry their time, so they stay unique and ordered.
        const r = new EventRecorder(client, { component, now: () => new Date(this.now.getTime() + ++this.eventTick) });
        this.recorders.push(r);
        return r;
      },
      log: (m) => this.logs.push(m),
      options: { ...defaultControllerOptions },
    };
  }

  static async create(start = new Date('2025-03-01T12:00:00Z')): Promise<ControllerTestEnv> {
    const store = await openStore('sqlite::memory:');
    let env: ControllerTestEnv | undefined;
    const rest = new RestStorage(store, new ResourceRegistry(allResources), () => env?.now ?? start);
    const client = new LoopbackClient(rest, 'kube-controller-manager');
    env = new ControllerTestEnv(store, rest, client, start);
    await client.create(Resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    return env;
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** Every object of a handed-out informer's resource, with apiVersion and kind as a watch delivers them; undefined when not served. */
  private async listAll(resource: Gvr): Promise<KObject[] | undefined> {
    let list: KObject;
    try {
      list = await this.client.list(resource, undefined);
    } catch {
      return undefined;
    }
    const kind = String(list.kind ?? '').replace(/List$/, '');
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    return (list.items as KObject[]).map((o) => ({ apiVersion, kind, ...o }));
  }

  /** Makes every informer's cache match the store (firing handlers), as a caught-up watch would. */
  async refresh(): Promise<void> {
    for (const inf of this.informers.handedOut) {
      const items = await this.listAll(inf.resource);
      if (!items) continue;
      const keys = new Set(items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
      for (const old of inf.list()) if (!keys.has(`${old.metadata?.namespace ?? ''}/${old.metadata?.name}`)) inf.unseed(old);
      inf.seed(items);
    }
  }

  /** Resource versions of every object the controllers watch: unchanged when a round of syncs did nothing. */
  private async fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const inf of this.informers.handedOut) {
      for (const o of (await this.listAll(inf.resource)) ?? []) parts.push(`${inf.resource.resource}/${o.metadata?.namespace}/${o.metadata?.name}@${o.metadata?.resourceVersion}`);
    }
    return parts.sort().join(',');
  }

  /**
   * Runs rounds of (refresh caches, sync every object of each controller's informer) until
   * a round changes nothing, calling `between` after every round (the simulated kubelet).
   * Returns the number of rounds.
   */
  async settle(controllers: Array<{ c: Syncable; informer: Informer }>, opts: { between?: () => Promise<void>; maxRounds?: number; afterRound?: () => Promise<void> } = {}): Promise<number> {
    let before = await this.fingerprint();
    for (let round = 1; round <= (opts.maxRounds ?? 50); round++) {
      let failed = false;
      for (const { c, informer } of controllers) {
        await this.refresh();
        for (const obj of informer.list()) {
          // A failed sync is retried next round, as the work queue would requeue it.
          await c.sync(`${obj.metadata!.namespace}/${obj.metadata!.name}`).catch((err) => {
            failed = true;
            this.syncErrors.push(err);
          });
        }
      }
      await opts.afterRound?.();
      await opts.between?.();
      const after = await this.fingerprint();
      if (after === before && !failed) return round;
      before = after;
    }
    throw new Error(`controllers did not settle; last errors: ${this.syncErrors.slice(-3).map(String).join('; ')}`);
  }

  /** The objects in a namespace (undefined: all, or cluster-scoped), sorted by name. */
  async list(r: Gvr, namespace: string | undefined = 'default', labelSelector?: string): Promise<KObject[]> {
    const list = await this.client.list(r, namespace, { labelSelector });
    return (list.items as KObject[]).sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  }

  async get(r: Gvr, name: string, namespace: string | undefined = 'default'): Promise<KObject | undefined> {
    try {
      return await this.client.get(r, namespace, name);
    } catch {
      return undefined;
    }
  }

  /** Events in the order first recorded, one entry per occurrence (count), each as the recorder wrote it. */
  private async recordedEvents(namespace: string): Promise<KObject[]> {
    for (const r of this.recorders) await r.flush();
    return (await this.list(Resources.events, namespace))
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
      .flatMap((e) => Array.from({ length: e.count ?? 1 }, () => e));
  }

  /** Events written so far, as "Type Reason Message". */
  async events(namespace = 'default'): Promise<string[]> {
    return (await this.recordedEvents(namespace)).map((e) => `${e.type} ${e.reason} ${e.message}`);
  }

  /** Events written so far, as "Kind/name Type Reason Message" of the object they are about. */
  async objectEvents(namespace = 'default'): Promise<string[]> {
    return (await this.recordedEvents(namespace)).map((e) => `${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.type} ${e.reason} ${e.message}`);
  }

  /** The scheduler and kubelet: binds unbound pods to `node`, then marks them Running and (optionally) Ready. */
  async runPods(opts: { ready?: boolean; node?: string; filter?: (pod: KObject) => boolean } = {}): Promise<void> {
    for (const pod of await this.list(Resources.pods)) {
      if (pod.metadata?.deletionTimestamp || (opts.filter && !opts.filter(pod))) continue;
      if (!pod.spec?.nodeName) await this.bind(pod.metadata!.name!, opts.node ?? 'node-1');
      const fresh = await this.client.get(Resources.pods, 'default', pod.metadata!.name!);
      const ready = opts.ready ?? true;
      const cond = (fresh.status?.conditions ?? []).find((c: KObject) => c.type === 'Ready');
      if (fresh.status?.phase === 'Running' && cond?.status === (ready ? 'True' : 'False')) continue;
      fresh.status = { ...(fresh.status ?? {}), phase: 'Running', conditions: [this.readyCondition(ready)] };
      await this.client.update(Resources.pods, 'default', fresh, { subresource: 'status' });
    }
  }

  /** The scheduler's binding of a pod to a node. */
  async bind(name: string, node: string, namespace = 'default'): Promise<void> {
    await this.client.createSubresource(Resources.pods, namespace, name, 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { kind: 'Node', name: node },
    });
  }

  /** The kubelet finishing graceful deletions: pods with a deletionTimestamp go away. */
  async finishDeletions(): Promise<void> {
    for (const pod of await this.list(Resources.pods))
      if (pod.metadata?.deletionTimestamp) await this.client.delete(Resources.pods, 'default', pod.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }

  /** Writes pod status as a node agent would: phase, Ready condition, container states. */
  async setPodStatus(name: string, phase: PodPhase, opts: { ready?: boolean; namespace?: string; restarts?: number } = {}): Promise<KObject> {
    const pod = await this.client.get(Resources.pods, opts.namespace ?? 'default', name);
    const ts = rfc3339(this.now);
    const ready = opts.ready ?? phase === 'Running';
    const terminated = phase === 'Succeeded' || phase === 'Failed';
    pod.status = {
      ...pod.status,
      phase,
      conditions: [this.readyCondition(ready)],
      containerStatuses: ((pod.spec?.containers ?? []) as KObject[]).map((c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready,
        restartCount: opts.restarts ?? 0,
        started: !terminated,
        state: terminated
          ? { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, reason: phase === 'Succeeded' ? 'Completed' : 'Error', startedAt: ts, finishedAt: ts } }
          : phase === 'Running'
            ? { running: { startedAt: ts } }
            : { waiting: { reason: 'ContainerCreating' } },
      })),
    };
    return this.client.update(Resources.pods, opts.namespace ?? 'default', pod, { subresource: 'status' });
  }

  /** A pod bound to a node with an IP and a Ready condition, as the scheduler and a node agent leave it. */
  async runningPod(
    name: string,
    labels: Record<string, string>,
    opts: { ip: string; node?: string; ready?: boolean; namespace?: string; ports?: KObject[]; ownerReferences?: OwnerReference[] },
  ): Promise<KObject> {
    const namespace = opts.namespace ?? 'default';
    await this.client.create(Resources.pods, namespace, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels, ...(opts.ownerReferences ? { ownerReferences: opts.ownerReferences } : {}) },
      spec: { nodeName: opts.node ?? 'node-a', containers: [{ name: 'app', image: 'busybox:1.36', ports: opts.ports ?? [] }] },
    });
    const pod = await this.client.get(Resources.pods, namespace, name);
    pod.status = { phase: 'Running', podIP: opts.ip, podIPs: [{ ip: opts.ip }], conditions: [this.readyCondition(opts.ready ?? true)] };
    return this.client.update(Resources.pods, namespace, pod, { subresource: 'status' });
  }

  private readyCondition(ready: boolean): KObject {
    return { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: rfc3339(this.now), lastProbeTime: null };
  }

  async close(): Promise<void> {
    for (const r of this.recorders) await r.flush();
    await this.store.close();
  }
}

/** The hex time suffix of an event's name (`<object>.<hex nanoseconds>`). */
const eventTime = (e: KObject): string => String(e.metadata?.name).split('.').pop()!.padStart(20, '0');

/** Polls until fn returns a truthy value or the deadline passes. */
export async function poll<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An owner reference to `owner` (a controller reference that blocks its deletion unless told otherwise). */
export function ownerRef(owner: KObject, opts: { controller?: boolean; blockOwnerDeletion?: boolean } = { controller: true, blockOwnerDeletion: true }): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    ...(opts.controller !== undefined ? { controller: opts.controller } : {}),
    ...(opts.blockOwnerDeletion !== undefined ? { blockOwnerDeletion: opts.blockOwnerDeletion } : {}),
  };
}

/** A minimal container list for test templates. */
export const testContainers = [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }];

export const podTemplate = (labels: Record<string, string>, image = 'nginx:1.25'): KObject => ({
  metadata: { labels },
  spec: { containers: [{ name: 'app', image }] },
});

export const replicaSet = (name: string, replicas: number, labels: Record<string, string> = { app: name }, extra: KObject = {}): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels), ...extra },
});

export const deployment = (name: string, replicas: number, spec: KObject = {}, image = 'nginx:1.25'): KObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, image), ...spec },
});
