/**
 * @module Test-only harness for the workload controllers: the real REST pipeline over an
 * in-memory SQLite store, a loopback client, a settable clock, informers the test
 * refreshes explicitly (so the test decides when a controller sees a write), and a
 * stand-in for the scheduler and kubelet that binds pods, makes them ready and finishes
 * graceful deletions.
 */
import { allResources } from '../../api/kinds/index.js';
import type { KObject } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { ResourceRegistry } from '../../apiserver/registry.js';
import { RestStorage } from '../../apiserver/rest.js';
import { EventRecorder, Informer, InformerFactory, Resources, type Client, type Gvr, type InformerOptions } from '../../client/index.js';
import { openStore, type Store } from '../../storage/store.js';
import '../../storage/sqlite/index.js';
import { defaultControllerOptions, type ControllerContext } from '../types.js';
import { rfc3339 } from './ownership.js';

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

export class WorkloadEnv {
  now: Date;
  readonly recorders: EventRecorder[] = [];
  readonly informers: RecordingInformerFactory;
  readonly ctx: ControllerContext;
  readonly logs: Array<Record<string, unknown>> = [];
  /** Errors of syncs run by settle() (conflicts on a stale cache are normal and retried). */
  readonly syncErrors: unknown[] = [];
  private eventTick = 0;
  /** Client the controllers use; tests may swap in a wrapper before building controllers. */
  controllerClient: Client;

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
        const r = new EventRecorder(client, { component, now: () => new Date(this.now.getTime() + ++this.eventTick) });
        this.recorders.push(r);
        return r;
      },
      log: (m) => this.logs.push(m),
      options: { ...defaultControllerOptions },
    };
  }

  static async create(start = new Date('2025-03-01T12:00:00Z')): Promise<WorkloadEnv> {
    const store = await openStore('sqlite::memory:');
    let env: WorkloadEnv | undefined;
    const rest = new RestStorage(store, new ResourceRegistry(allResources), () => env?.now ?? start);
    const client = new LoopbackClient(rest, 'kube-controller-manager');
    env = new WorkloadEnv(store, rest, client, start);
    await client.create(Resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    return env;
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** Makes every informer's cache match the store (firing handlers), as a caught-up watch would. */
  async refresh(): Promise<void> {
    for (const inf of this.informers.handedOut) {
      const list = await this.client.list(inf.resource, undefined);
      const kind = String(list.kind ?? '').replace(/List$/, '');
      const apiVersion = inf.resource.group ? `${inf.resource.group}/${inf.resource.version}` : inf.resource.version;
      const items = (list.items as KObject[]).map((o) => ({ apiVersion, kind, ...o }));
      const keys = new Set(items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
      for (const old of inf.list()) if (!keys.has(`${old.metadata?.namespace ?? ''}/${old.metadata?.name}`)) inf.unseed(old);
      inf.seed(items);
    }
  }

  /** Resource versions of the workload objects: unchanged when a round of syncs did nothing. */
  private async fingerprint(): Promise<string> {
    const parts: string[] = [];
    for (const r of [Resources.deployments, Resources.replicasets, Resources.pods]) {
      const list = await this.client.list(r, 'default');
      for (const o of list.items as KObject[]) parts.push(`${o.metadata?.name}@${o.metadata?.resourceVersion}`);
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

  async list(r: Gvr, labelSelector?: string): Promise<KObject[]> {
    const list = await this.client.list(r, 'default', { labelSelector });
    return (list.items as KObject[]).sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  }

  async get(r: Gvr, name: string): Promise<KObject | undefined> {
    try {
      return await this.client.get(r, 'default', name);
    } catch {
      return undefined;
    }
  }

  async events(): Promise<string[]> {
    for (const r of this.recorders) await r.flush();
    const items = await this.list(Resources.events);
    return items
      // Event names carry their time, and each event is a millisecond after the previous one.
      .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
      .flatMap((e) => Array.from({ length: e.count ?? 1 }, () => `${e.involvedObject?.kind}/${e.involvedObject?.name} ${e.type} ${e.reason} ${e.message}`));
  }

  /** The scheduler and kubelet: binds unbound pods to `node`, then marks them Running and (optionally) Ready. */
  async runPods(opts: { ready?: boolean; node?: string; filter?: (pod: KObject) => boolean } = {}): Promise<void> {
    for (const pod of await this.list(Resources.pods)) {
      if (pod.metadata?.deletionTimestamp || (opts.filter && !opts.filter(pod))) continue;
      if (!pod.spec?.nodeName)
        await this.client.createSubresource(Resources.pods, 'default', pod.metadata!.name!, 'binding', {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata!.name },
          target: { kind: 'Node', name: opts.node ?? 'node-1' },
        });
      const fresh = await this.client.get(Resources.pods, 'default', pod.metadata!.name!);
      const ready = opts.ready ?? true;
      const cond = (fresh.status?.conditions ?? []).find((c: KObject) => c.type === 'Ready');
      if (fresh.status?.phase === 'Running' && cond?.status === (ready ? 'True' : 'False')) continue;
      fresh.status = {
        ...(fresh.status ?? {}),
        phase: 'Running',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: rfc3339(this.now) }],
      };
      await this.client.update(Resources.pods, 'default', fresh, { subresource: 'status' });
    }
  }

  /** The kubelet finishing graceful deletions: pods with a deletionTimestamp go away. */
  async finishDeletions(): Promise<void> {
    for (const pod of await this.list(Resources.pods))
      if (pod.metadata?.deletionTimestamp) await this.client.delete(Resources.pods, 'default', pod.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => undefined);
  }

  async close(): Promise<void> {
    for (const r of this.recorders) await r.flush();
    await this.store.close();
  }
}

/** The hex time suffix of an event's name (`<object>.<hex nanoseconds>`). */
const eventTime = (e: KObject): string => String(e.metadata?.name).split('.').pop()!.padStart(20, '0');

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
