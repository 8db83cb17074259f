/**
 * @module The routing table of the ingress controller, built from the Ingresses it serves:
 * host rules (exact, then `*.wildcard` of one label, then rules without a host), path
 * rules with the Ingress spec's matching (Exact; Prefix element-wise on `/`, so `/foo`
 * matches `/foo/bar` but not `/foobar`; ImplementationSpecific as Prefix), the longest
 * matching path first and Exact before Prefix on a tie, the oldest Ingress first when two
 * claim the same host and path, and TLS hosts with their Secrets. Pure data: rebuilt and
 * swapped whole on every change, so requests in flight never see half an update.
 */
import type { KObject } from '../api/types.js';

export interface BackendRef {
  namespace: string;
  service: string;
  /** The Service port, by number or by name. */
  port: { number?: number; name?: string };
}

export interface Route {
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  backend: BackendRef;
  /** "namespace/name" of the Ingress that declared it. */
  ingress: string;
}

export interface Match {
  backend: BackendRef;
  ingress: string;
}

export interface TlsRef {
  namespace: string;
  secretName: string;
}

interface Server {
  routes: Route[];
}

/** Element-wise path prefix: "/foo" matches "/foo", "/foo/" and "/foo/bar", not "/foobar". */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  if (p === '') return true;
  return path === p || path.startsWith(p + '/');
}

function routeMatches(r: Route, path: string): boolean {
  return r.pathType === 'Exact' ? path === r.path : prefixMatches(r.path, path);
}

function backendOf(namespace: string, b: KObject | undefined): BackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined;
  return { namespace, service: svc.name, port: { number: svc.port?.number, name: svc.port?.name } };
}

function byAge(a: KObject, b: KObject): number {
  const ta = String(a.metadata?.creationTimestamp ?? '');
  const tb = String(b.metadata?.creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata?.namespace}/${a.metadata?.name}`;
  const kb = `${b.metadata?.namespace}/${b.metadata?.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class RoutingTable {
  /** Host ('' = rules without a host) → its routes, most specific first. */
  private readonly servers = new Map<string, Server>();
  private readonly tlsHosts = new Map<string, TlsRef>();
  /** The oldest Ingress's spec.defaultBackend: where nothing else matches. */
  readonly defaultBackend?: Match;

  constructor(ingresses: KObject[]) {
    let fallback: Match | undefined;
    for (const ing of [...ingresses].sort(byAge)) {
      const namespace = String(ing.metadata?.namespace ?? 'default');
      const key = `${namespace}/${ing.metadata?.name}`;
      const def = backendOf(namespace, ing.spec?.defaultBackend);
      if (def && !fallback) fallback = { backend: def, ingress: key };
      for (const t of (ing.spec?.tls ?? []) as KObject[]) {
        if (!t.secretName) continue;
        for (const h of (t.hosts ?? []) as string[]) if (!this.tlsHosts.has(h)) this.tlsHosts.set(h, { namespace, secretName: t.secretName });
      }
      for (const rule of (ing.spec?.rules ?? []) as KObject[]) {
        const host = String(rule.host ?? '');
        const server = this.servers.get(host) ?? { routes: [] };
        this.servers.set(host, server);
        for (const p of (rule.http?.paths ?? []) as KObject[]) {
          const backend = backendOf(namespace, p.backend);
          if (!backend) continue;
          const path = String(p.path ?? '/');
          const pathType = p.pathType === 'Exact' || p.pathType === 'Prefix' ? p.pathType : 'ImplementationSpecific';
          // The oldest Ingress keeps a host+path two of them claim.
          if (server.routes.some((r) => r.path === path && r.pathType === pathType)) continue;
          server.routes.push({ path, pathType, backend, ingress: key });
        }
      }
    }
    for (const s of this.servers.values())
      s.routes.sort((a, b) => {
        const la = a.path.replace(/\/+$/, '').length;
        const lb = b.path.replace(/\/+$/, '').length;
        if (la !== lb) return lb - la;
        return (a.pathType === 'Exact' ? 0 : 1) - (b.pathType === 'Exact' ? 0 : 1);
      });
    this.defaultBackend = fallback;
  }

  /** The server block for a Host header: exact name, then a one-label wildcard, then host-less rules. */
  private serverFor(host: string): Server | undefined {
    const exact = this.servers.get(host);
    if (exact) return exact;
    const dot = host.indexOf('.');
    if (dot > 0) {
      const wild = this.servers.get(`*${host.slice(dot)}`);
      if (wild) return wild;
    }
    return this.servers.get('');
  }

  match(hostHeader: string, path: string): Match | undefined {
    const host = hostOnly(hostHeader);
    const server = this.serverFor(host);
    const route = server?.routes.find((r) => routeMatches(r, path));
    if (route) return { backend: route.backend, ingress: route.ingress };
    return this.defaultBackend;
  }

  /** The TLS Secret for a server name (SNI): exact host, then a one-label wildcard. */
  tlsFor(serverName: string): TlsRef | undefined {
    const exact = this.tlsHosts.get(serverName);
    if (exact) return exact;
    const dot = serverName.indexOf('.');
    return dot > 0 ? this.tlsHosts.get(`*${serverName.slice(dot)}`) : undefined;
  }

  get size(): number {
    let n = 0;
    for (const s of this.servers.values()) n += s.routes.length;
    return n;
  }
}

/** "example.com:8443" → "example.com"; "[::1]:80" → "::1"; lower-cased. */
export function hostOnly(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}
