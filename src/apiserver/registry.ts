/**
 * @module The served resources indexed for routing (group/version/plural), for
 * kubectl's discovery (aggregated v2/v2beta1 and the legacy documents) and for
 * storage keys (`/registry/<resource>/<namespace>/<name>`, as kube-apiserver).
 */
import type { ResourceDef } from '../api/types.js';
import { apiVersionOf, storageOf } from '../api/types.js';

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Group preference: the first version listed is the preferred one (autoscaling/v2 before v1). */
const versionPriority = (v: string): number => {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return 0;
  const major = Number(m[1]);
  const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
  return stage * 1e6 + major * 1e3 + Number(m[3] ?? 0);
};

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDef>();
  private readonly groups = new Map<string, Map<string, ResourceDef[]>>();

  constructor(readonly resources: ResourceDef[]) {
    for (const def of resources) {
      this.byPath.set(`${def.group}/${def.version}/${def.plural}`, def);
      let versions = this.groups.get(def.group);
      if (!versions) this.groups.set(def.group, (versions = new Map()));
      let list = versions.get(def.version);
      if (!list) versions.set(def.version, (list = []));
      list.push(def);
    }
  }

  lookup(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return !!this.groups.get(group)?.has(version);
  }

  /** Versions of a group, preferred first. */
  versionsOf(group: string): string[] {
    const versions = this.groups.get(group);
    if (!versions) return [];
    return [...versions.keys()].sort((a, b) => versionPriority(b) - versionPriority(a));
  }

  /** Non-core groups in a stable order (kube lists them in registration order; alphabetical is fine). */
  groupNames(): string[] {
    return [...this.groups.keys()].filter((g) => g !== '').sort();
  }

  resourcesOf(group: string, version: string): ResourceDef[] {
    return this.groups.get(group)?.get(version) ?? [];
  }

  /** The def of a kind in its preferred version (used for ownerReferences, events...). */
  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const v of this.versionsOf(group)) {
      const d = this.resourcesOf(group, v).find((r) => r.kind === kind);
      if (d) return d;
    }
    return undefined;
  }

  /** All served defs that share one storage resource with def (e.g. autoscaling v1 and v2 HPAs). */
  storageKeyPrefix(def: ResourceDef, namespace?: string): string {
    const { resource } = storageOf(def);
    if (!def.namespaced) return `/registry/${resource}/`;
    return namespace ? `/registry/${resource}/${namespace}/` : `/registry/${resource}/`;
  }

  storageKey(def: ResourceDef, namespace: string | undefined, name: string): string {
    const { resource } = storageOf(def);
    return def.namespaced ? `/registry/${resource}/${namespace}/${name}` : `/registry/${resource}/${name}`;
  }

  // ---- discovery documents ----

  private resourceVerbs(def: ResourceDef): string[] {
    return def.verbs ?? allVerbs;
  }

  private subresourcesOf(def: ResourceDef): Array<{ name: string; kind: string; group: string; version: string; verbs: string[] }> {
    const out: Array<{ name: string; kind: string; group: string; version: string; verbs: string[] }> = [];
    if (def.subresources?.status) out.push({ name: 'status', kind: def.kind, group: def.group, version: def.version, verbs: ['get', 'patch', 'update'] });
    if (def.subresources?.scale) out.push({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
    for (const name of def.extraSubresources ?? []) out.push({ name, ...extraSubresourceShape(name, def) });
    return out;
  }

  /** apidiscovery.k8s.io APIGroupDiscovery for one group ('' = core). */
  aggregatedGroup(group: string): Record<string, unknown> {
    return {
      metadata: group ? { name: group, creationTimestamp: null } : { creationTimestamp: null },
      versions: this.versionsOf(group).map((version) => ({
        version,
        resources: this.resourcesOf(group, version).map((def) => {
          const r: Record<string, unknown> = {
            resource: def.plural,
            responseKind: { group: def.group, version: def.version, kind: def.kind },
            scope: def.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: def.singular,
            verbs: this.resourceVerbs(def),
          };
          if (def.shortNames?.length) r.shortNames = def.shortNames;
          if (def.categories?.length) r.categories = def.categories;
          const subs = this.subresourcesOf(def);
          if (subs.length)
            r.subresources = subs.map((s) => ({
              subresource: s.name,
              responseKind: { group: s.group, version: s.version, kind: s.kind },
              verbs: s.verbs,
            }));
          return r;
        }),
        freshness: 'Current',
      })),
    };
  }

  /** Legacy APIResourceList for /api/v1 or /apis/<g>/<v>. */
  apiResourceList(group: string, version: string): Record<string, unknown> {
    const resources: Record<string, unknown>[] = [];
    for (const def of this.resourcesOf(group, version)) {
      const r: Record<string, unknown> = {
        name: def.plural,
        singularName: def.singular,
        namespaced: def.namespaced,
        kind: def.kind,
        verbs: this.resourceVerbs(def),
      };
      if (def.shortNames?.length) r.shortNames = def.shortNames;
      if (def.categories?.length) r.categories = def.categories;
      resources.push(r);
      for (const s of this.subresourcesOf(def)) {
        const sub: Record<string, unknown> = { name: `${def.plural}/${s.name}`, singularName: '', namespaced: def.namespaced, kind: s.kind, verbs: s.verbs };
        if (s.group !== def.group || s.version !== def.version) Object.assign(sub, { group: s.group, version: s.version });
        resources.push(sub);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
  }

  /** Legacy APIGroupList for /apis. */
  apiGroupList(): Record<string, unknown> {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groupNames().map((g) => this.apiGroup(g)),
    };
  }

  apiGroup(group: string): Record<string, unknown> {
    const versions = this.versionsOf(group).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
  }
}

/** What kind and verbs the special subresources answer with (as kube-apiserver advertises them). */
function extraSubresourceShape(name: string, def: ResourceDef): { kind: string; group: string; version: string; verbs: string[] } {
  switch (name) {
    case 'binding':
      return { kind: 'Binding', group: '', version: 'v1', verbs: ['create'] };
    case 'eviction':
      return { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'log':
      return { kind: 'Pod', group: '', version: 'v1', verbs: ['get'] };
    case 'exec':
    case 'attach':
    case 'portforward':
      return { kind: name === 'exec' ? 'PodExecOptions' : name === 'attach' ? 'PodAttachOptions' : 'PodPortForwardOptions', group: '', version: 'v1', verbs: ['create', 'get'] };
    case 'proxy':
      return { kind: `${def.kind}ProxyOptions`, group: '', version: 'v1', verbs: ['create', 'delete', 'get', 'patch', 'update'] };
    case 'ephemeralcontainers':
    case 'resize':
      return { kind: def.kind, group: def.group, version: def.version, verbs: ['get', 'patch', 'update'] };
    case 'token':
      return { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] };
    default:
      return { kind: def.kind, group: def.group, version: def.version, verbs: ['get'] };
  }
}
