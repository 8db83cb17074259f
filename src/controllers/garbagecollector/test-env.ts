/**
 * @module Test-only harness shared by the garbage collector, namespace, Endpoints and
 * EndpointSlice controller tests: the real REST pipeline over an in-memory SQLite store,
 * a loopback client, a settable clock, and informers the test refreshes explicitly (so a
 * test decides when a controller sees a write) or starts for real (for run() tests).
 */
import { allResources } from '../../api/kinds/index.js';
import type { KObject, OwnerReference } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { ResourceRegistry } from '../../apiserver/registry.js';
import { RestStorage } from '../../apiserver/rest.js';
import { EventRecorder, Informer, InformerFactory, Resources, type Gvr, type InformerOptions } from '../../client/index.js';
import { openStore, type Store } from '../../storage/store.js';
import '../../storage/sqlite/index.js';
import { defaultControllerOptions, type ControllerContext } from '../types.js';

class RecordingInformerFactory extends InformerFactory {
  readonly handedOut: Informer[] = [];

  override for(resource: Gvr, opts: Omit<InformerOptions, 'log'> = {}): Informer {
    const inf = super.for(resource, opts);
    if (!this.handedOut.includes(inf)) this.handedOut.push(inf);
    return inf;
  }
}

export class TestEnv {
  now: Date;
  readonly recorders: EventRecorder[] = [];
  readonly informers: RecordingInformerFactory;
  readonly ctx: ControllerContext;
  readonly logs: Array<Record<string, unknown>> = [];

  private constructor(
    readonly store: Store,
    readonly rest: RestStorage,
    readonly client: LoopbackClient,
    start: Date,
  ) {
    this.now = start;
    this.informers = new RecordingInformerFactory(client);
    this.ctx = {
      client,
      informers: this.informers,
      now: () => this.now,
      recorder: (component) => {
        const r = new EventRecorder(client, { component, now: () => this.now });
        this.recorders.push(r);
        return r;
      },
      log: (m) => this.logs.push(m),
      options: { ...defaultControllerOptions },
    };
  }

  static async create(start = new Date('2025-03-01T12:00:00Z')): Promise<TestEnv> {
    const store = await openStore('sqlite::memory:');
    let env: TestEnv | undefined;
    const rest = new RestStorage(store, new ResourceRegistry(allResources), () => env?.now ?? start);
    const client = new LoopbackClient(rest, 'kube-controller-manager');
    env = new TestEnv(store, rest, client, start);
    await client.create(Resources.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    return env;
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** Makes every informer's cache match the store (firing handlers), as a caught-up watch would. */
  async refresh(): Promise<void> {
    for (const inf of this.informers.handedOut) {
      let list: KObject;
      try {
        list = await this.client.list(inf.resource, undefined);
      } catch {
        continue;
      }
      const kind = String(list.kind ?? '').replace(/List$/, '');
      const apiVersion = inf.resource.group ? `${inf.resource.group}/${inf.resource.version}` : inf.resource.version;
      const items = (list.items as KObject[]).map((o) => ({ apiVersion, kind, ...o }));
      const keys = new Set(items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`));
      for (const old of inf.list()) if (!keys.has(`${old.metadata?.namespace ?? ''}/${old.metadata?.name}`)) inf.unseed(old);
      inf.seed(items);
    }
  }

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

  async events(namespace = 'default'): Promise<string[]> {
    for (const r of this.recorders) await r.flush();
    const items = await this.list(Resources.events, namespace);
    return items.map((e) => `${e.type} ${e.reason} ${e.message}`);
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
    const ts = this.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ready = opts.ready ?? true;
    pod.status = {
      phase: 'Running',
      podIP: opts.ip,
      podIPs: [{ ip: opts.ip }],
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ts, lastProbeTime: null }],
    };
    return this.client.update(Resources.pods, namespace, pod, { subresource: 'status' });
  }

  async close(): Promise<void> {
    for (const r of this.recorders) await r.flush();
    await this.store.close();
  }
}

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
