/**
 * @module Where a node agent reads the objects its pods refer to — services (service
 * links), ConfigMaps and Secrets (env, volumes), PersistentVolumeClaims and their
 * PersistentVolumes — from shared informer caches, falling back to a GET when the cache
 * has not seen an object yet (a ConfigMap created just before its pod). Pods register the
 * objects they use, so a change re-syncs exactly those pods (kubelet's watch-based
 * configmap/secret managers).
 */
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { InformerFactory, Resources, gvr, type Client, type Gvr, type Informer } from '../../client/index.js';

/** The kinds a pod can refer to, by resource name. */
export type ReferencedResource = 'configmaps' | 'secrets' | 'persistentvolumeclaims' | 'persistentvolumes';

const gvrs: Record<ReferencedResource | 'services', Gvr> = {
  configmaps: Resources.configmaps,
  secrets: Resources.secrets,
  persistentvolumeclaims: Resources.persistentvolumeclaims,
  persistentvolumes: gvr('', 'v1', 'persistentvolumes'),
  services: Resources.services,
};

/** "configmaps/ns/name", "persistentvolumes//pv-1": how pods name what they depend on. */
export function referenceKey(resource: ReferencedResource, namespace: string | undefined, name: string): string {
  return `${resource}/${namespace ?? ''}/${name}`;
}

/** Thrown when the service cache never filled (kubelet refuses to build env without it). */
export class ServicesNotSyncedError extends Error {
  constructor() {
    super('services have not yet been read at least once, cannot construct envvars');
    this.name = 'ServicesNotSyncedError';
  }
}

export interface TokenRequestSpec {
  serviceAccountName: string;
  audience?: string;
  expirationSeconds: number;
}

/** What env and volume resolution read; tests give a map-backed fake. */
export interface ObjectSource {
  /** The object, or undefined when it does not exist. */
  get(resource: ReferencedResource, namespace: string | undefined, name: string): Promise<KObject | undefined>;
  /** Services of the namespace plus the default namespace's (service links). */
  services(namespace: string): Promise<KObject[]>;
  /** A bound service account token for the pod (TokenRequest); throws when the API cannot issue one. */
  requestToken?(pod: KObject, spec: TokenRequestSpec): Promise<string>;
  /** Calls onChange whenever one of refs changes; replaces owner's earlier registration. */
  track(owner: string, refs: string[], onChange: () => void): void;
  untrack(owner: string): void;
}

export interface InformerObjectSourceOptions {
  client: Client;
  /** Share a process-wide factory (its owner starts it); otherwise one is made and started here. */
  informers?: InformerFactory;
  /** How long a first read waits for a cache to fill before giving up (default 10 s). */
  syncTimeoutMs?: number;
  log?: (msg: Record<string, unknown>) => void;
}

/** Reads through lazily started shared informers: a node without ConfigMap users never watches ConfigMaps. */
export class InformerObjectSource implements ObjectSource {
  private readonly informers: InformerFactory;
  private readonly own?: AbortController;
  private readonly watched = new Map<string, Informer>();
  private readonly owners = new Map<string, { refs: string[]; onChange: () => void }>();
  private readonly byRef = new Map<string, Set<string>>();

  constructor(private readonly opts: InformerObjectSourceOptions) {
    if (opts.informers) this.informers = opts.informers;
    else {
      this.informers = new InformerFactory(opts.client, opts.log);
      this.own = new AbortController();
      this.informers.start(this.own.signal);
    }
  }

  /** Stops the informers this source started itself. */
  stop(): void {
    this.own?.abort();
  }

  private informer(resource: ReferencedResource | 'services'): Informer {
    let inf = this.watched.get(resource);
    if (!inf) {
      inf = this.informers.for(gvrs[resource]);
      this.watched.set(resource, inf);
      if (resource !== 'services') {
        const notify = (o: KObject) => this.notify(referenceKey(resource, o.metadata?.namespace, o.metadata?.name ?? ''));
        inf.addEventHandlers({ add: notify, update: (_old, o) => notify(o), delete: notify });
      }
    }
    return inf;
  }

  private async synced(inf: Informer): Promise<boolean> {
    if (inf.hasSynced()) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.syncTimeoutMs ?? 10_000);
      timer.unref?.();
    });
    try {
      return await Promise.race([inf.waitForSync().then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async get(resource: ReferencedResource, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const inf = this.informer(resource);
    if (await this.synced(inf)) {
      const cached = inf.getByName(resource === 'persistentvolumes' ? undefined : namespace, name);
      if (cached) return cached;
    }
    try {
      return await this.opts.client.get(gvrs[resource], resource === 'persistentvolumes' ? undefined : namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  async services(namespace: string): Promise<KObject[]> {
    const inf = this.informer('services');
    if (!(await this.synced(inf))) throw new ServicesNotSyncedError();
    const own = inf.byNamespace(namespace);
    return namespace === 'default' ? own : [...own, ...inf.byNamespace('default')];
  }

  async requestToken(pod: KObject, spec: TokenRequestSpec): Promise<string> {
    const meta = pod.metadata ?? {};
    const res = await this.opts.client.createSubresource(Resources.serviceaccounts, meta.namespace, spec.serviceAccountName, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: spec.audience ? [spec.audience] : [],
        expirationSeconds: spec.expirationSeconds,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: meta.name, uid: meta.uid },
      },
    });
    const token = res.status?.token;
    if (typeof token !== 'string' || !token) throw new Error('the TokenRequest returned no token');
    return token;
  }

  track(owner: string, refs: string[], onChange: () => void): void {
    const prev = this.owners.get(owner);
    if (prev && prev.refs.length === refs.length && prev.refs.every((r, i) => r === refs[i])) {
      prev.onChange = onChange;
      return;
    }
    this.untrack(owner);
    if (refs.length === 0) return;
    this.owners.set(owner, { refs: [...refs], onChange });
    for (const r of refs) {
      let set = this.byRef.get(r);
      if (!set) this.byRef.set(r, (set = new Set()));
      set.add(owner);
      // Watch what is referenced, so a change reaches the pod without waiting for a resync.
      this.informer(r.slice(0, r.indexOf('/')) as ReferencedResource);
    }
  }

  untrack(owner: string): void {
    const prev = this.owners.get(owner);
    if (!prev) return;
    this.owners.delete(owner);
    for (const r of prev.refs) {
      const set = this.byRef.get(r);
      set?.delete(owner);
      if (set?.size === 0) this.byRef.delete(r);
    }
  }

  private notify(ref: string): void {
    const set = this.byRef.get(ref);
    if (!set) return;
    for (const owner of set) this.owners.get(owner)?.onChange();
  }
}
