/**
 * @module Informers: list + watch into a local cache with event handlers and indexes
 * (client-go's reflector, store and shared informer). One informer per resource is
 * shared by every controller in the process through the InformerFactory.
 */
import { ApiError } from '../api/errors.js';
import type { KObject } from '../api/types.js';
import { apiVersionOfGvr, keyOf, type Client, type Gvr, type WatchHandle } from './client.js';

export interface EventHandlers {
  add?(obj: KObject): void;
  update?(oldObj: KObject, newObj: KObject): void;
  /** The last known state of the deleted object. */
  delete?(obj: KObject): void;
}

export type IndexFunc = (obj: KObject) => string[];

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Relist/watch retry delay after an error. */
  retryMs?: number;
  log?: (msg: Record<string, unknown>) => void;
}

/** Objects in the cache are shared: handlers and readers must not mutate them. */
export class Informer {
  private readonly items = new Map<string, KObject>();
  private readonly handlers: EventHandlers[] = [];
  private readonly indexers = new Map<string, IndexFunc>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private watch?: WatchHandle;
  private lastResourceVersion = '';
  private running = false;

  constructor(
    private readonly client: Client,
    readonly resource: Gvr,
    private readonly opts: InformerOptions = {},
  ) {
    this.addIndex('namespace', (o) => (o.metadata?.namespace ? [o.metadata.namespace] : []));
  }

  addEventHandlers(h: EventHandlers): void {
    this.handlers.push(h);
    // Late subscribers see the current cache as adds, as client-go's shared informer does.
    if (this.synced) for (const o of this.items.values()) h.add?.(o);
  }

  addIndex(name: string, fn: IndexFunc): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) for (const v of fn(obj)) addTo(index, v, key);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(key: string): KObject | undefined {
    return this.items.get(key);
  }

  getByName(namespace: string | undefined, name: string): KObject | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KObject[] {
    return [...this.items.values()];
  }

  byIndex(index: string, value: string): KObject[] {
    const keys = this.indices.get(index)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.items.get(k)!).filter(Boolean);
  }

  byNamespace(namespace: string): KObject[] {
    return this.byIndex('namespace', namespace);
  }

  /** Starts list + watch; returns once started (not synced). Stops when the signal aborts. */
  start(signal: AbortSignal): void {
    if (this.running) return;
    this.running = true;
    signal.addEventListener('abort', () => {
      this.running = false;
      this.watch?.stop();
    }, { once: true });
    void this.loop(signal);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const ended = await this.watchOnce(signal);
        if (ended === 'expired') needList = true;
      } catch (err) {
        this.opts.log?.({ level: 'warn', msg: 'informer error', resource: this.resource.resource, error: String(err) });
        if (err instanceof ApiError && err.code === 410) needList = true;
        await sleep(this.opts.retryMs ?? 1000, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const items: KObject[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const list = await this.client.list(this.resource, this.opts.namespace, {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: 500,
        continue: cont,
      });
      for (const item of list.items as KObject[]) items.push(withTypeMeta(item, this.resource, list));
      cont = list.metadata?.continue as string | undefined;
      rv = list.metadata?.resourceVersion ?? rv;
    } while (cont);
    this.replace(items);
    this.lastResourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** Watches until the stream ends; 'expired' when the server said 410. */
  private watchOnce(signal: AbortSignal): Promise<'ended' | 'expired'> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (v: 'ended' | 'expired') => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      this.client
        .watch(
          this.resource,
          this.opts.namespace,
          { resourceVersion: this.lastResourceVersion, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector, allowWatchBookmarks: true },
          (ev) => {
            if (ev.type === 'ERROR') {
              if (ev.object?.code === 410) finish('expired');
              this.watch?.stop();
              return;
            }
            const rv = ev.object.metadata?.resourceVersion;
            if (rv) this.lastResourceVersion = rv;
            if (ev.type === 'BOOKMARK') return;
            const obj = withTypeMeta(ev.object, this.resource);
            if (ev.type === 'DELETED') this.remove(obj);
            else this.upsert(obj);
          },
          (err) => (err ? (settled ? undefined : ((settled = true), reject(err))) : finish('ended')),
        )
        .then((h) => {
          this.watch = h;
          if (signal.aborted) h.stop();
        }, (err) => {
          if (!settled) {
            settled = true;
            reject(err);
          }
        });
    });
  }

  private replace(items: KObject[]): void {
    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    for (const [key, old] of [...this.items]) if (!fresh.has(key)) this.remove(old);
    for (const obj of fresh.values()) this.upsert(obj);
  }

  private upsert(obj: KObject): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  private remove(obj: KObject): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.items.delete(key);
    for (const h of this.handlers) h.delete?.(old);
  }

  private index(key: string, obj: KObject): void {
    for (const [name, fn] of this.indexers) for (const v of fn(obj)) addTo(this.indices.get(name)!, v, key);
  }

  private unindex(key: string, obj: KObject): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const v of fn(obj)) {
        const set = index.get(v);
        set?.delete(key);
        if (set && set.size === 0) index.delete(v);
      }
    }
  }

  /** For controller unit tests: put objects in the cache (firing handlers) without a server. */
  seed(objs: KObject[]): void {
    for (const o of objs) this.upsert(o);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** For controller unit tests: remove an object from the cache (firing delete handlers). */
  unseed(obj: KObject): void {
    this.remove(obj);
  }
}

/** One shared informer per resource (and namespace/selector), as client-go's SharedInformerFactory. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  private signal?: AbortSignal;

  constructor(
    readonly client: Client,
    private readonly log?: (msg: Record<string, unknown>) => void,
  ) {}

  for(resource: Gvr, opts: Omit<InformerOptions, 'log'> = {}): Informer {
    const key = `${resource.group}/${resource.version}/${resource.resource}|${opts.namespace ?? ''}|${opts.labelSelector ?? ''}|${opts.fieldSelector ?? ''}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer(this.client, resource, { ...opts, log: this.log });
      this.informers.set(key, inf);
      if (this.signal) inf.start(this.signal);
    }
    return inf;
  }

  /** Starts every informer requested so far and any requested later. */
  start(signal: AbortSignal): void {
    this.signal = signal;
    for (const inf of this.informers.values()) inf.start(signal);
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  let set = index.get(value);
  if (!set) index.set(value, (set = new Set()));
  set.add(key);
}

/** List items come without apiVersion/kind (as kube-apiserver sends them); informers add them back. */
function withTypeMeta(obj: KObject, r: Gvr, list?: KObject): KObject {
  if (obj.apiVersion && obj.kind) return obj;
  const kind = list?.kind?.replace(/List$/, '') ?? obj.kind;
  return { apiVersion: apiVersionOfGvr(r), ...(kind ? { kind } : {}), ...obj };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
