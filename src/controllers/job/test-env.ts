/**
 * @module Test-only harness for workload controller unit tests: the real REST pipeline over
 * an in-memory SQLite store, a loopback client, a fake clock shared by the API and the
 * controller, and informers whose caches the test refreshes explicitly (so a test decides
 * when the controller sees its own writes — stale caches included).
 */
import { allResources } from '../../api/kinds/index.js';
import type { KObject } from '../../api/types.js';
import { LoopbackClient } from '../../apiserver/loopback.js';
import { ResourceRegistry } from '../../apiserver/registry.js';
import { RestStorage } from '../../apiserver/rest.js';
import { EventRecorder, Informer, InformerFactory, Resources, type Gvr, type InformerOptions } from '../../client/index.js';
import { openStore, type Store } from '../../storage/store.js';
import '../../storage/sqlite/index.js';
import { defaultControllerOptions, type ControllerContext } from '../types.js';

/** Remembers every informer handed out so the test can refresh them all. */
class RecordingInformerFactory extends InformerFactory {
  readonly handedOut: Informer[] = [];

  override for(resource: Gvr, opts: Omit<InformerOptions, 'log'> = {}): Informer {
    const inf = super.for(resource, opts);
    if (!this.handedOut.includes(inf)) this.handedOut.push(inf);
    return inf;
  }
}

export class ControllerTestEnv {
  now: Date;
  readonly recorders: EventRecorder[] = [];
  readonly informers: RecordingInformerFactory;
  readonly ctx: ControllerContext;

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
      log: () => {},
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

  async list(r: Gvr, namespace = 'default'): Promise<KObject[]> {
    const list = await this.client.list(r, namespace);
    return (list.items as KObject[]).sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  }

  async get(r: Gvr, name: string, namespace = 'default'): Promise<KObject | undefined> {
    try {
      return await this.client.get(r, namespace, name);
    } catch {
      return undefined;
    }
  }

  /** Events written so far, as "Type Reason Message". */
  async events(namespace = 'default'): Promise<string[]> {
    for (const r of this.recorders) await r.flush();
    const items = await this.list(Resources.events, namespace);
    // Write order (resourceVersion): the fake clock gives many events the same timestamp.
    items.sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion));
    return items.map((e) => `${e.type} ${e.reason} ${e.message}`);
  }

  /** Writes pod status as a node agent would: phase, Ready condition, container states. */
  async setPodStatus(name: string, phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed', opts: { ready?: boolean; namespace?: string; restarts?: number } = {}): Promise<KObject> {
    const pod = await this.client.get(Resources.pods, opts.namespace ?? 'default', name);
    const ts = this.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const ready = opts.ready ?? phase === 'Running';
    const terminated = phase === 'Succeeded' || phase === 'Failed';
    pod.status = {
      ...pod.status,
      phase,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ts, lastProbeTime: null }],
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

  async close(): Promise<void> {
    for (const r of this.recorders) await r.flush();
    await this.store.close();
  }
}

/** A minimal container list for test templates. */
export const testContainers = [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }];
