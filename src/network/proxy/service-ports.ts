/**
 * @module What the service proxy reads out of Services and EndpointSlices (kube-proxy's
 * ServicePort, Endpoint and CategorizeEndpoints): one entry per Service port with its
 * ClusterIP, NodePort, load-balancer and external IPs and policies, and the endpoints each
 * traffic policy may use — ready ones, or serving-terminating ones when none is ready.
 */
import type { KObject } from '../../api/types.js';

/** Services the proxy leaves alone: the node-local DNS server answers on its ClusterIP itself. */
export const nodeLocalAnnotation = 'skiff.dev/node-local';
/** kube-proxy ignores Services carrying this label (another proxy implements them). */
export const serviceProxyNameLabel = 'service.kubernetes.io/service-proxy-name';
/** kube-proxy ignores headless Services and those labelled with this. */
export const headlessLabel = 'service.kubernetes.io/headless';
export const serviceNameLabel = 'kubernetes.io/service-name';
export const lastChangeTriggerTimeAnnotation = 'endpoints.kubernetes.io/last-change-trigger-time';
/** kube's default ClientIP affinity timeout (3 hours). */
export const defaultStickyMaxAgeSeconds = 10800;

export type Protocol = 'tcp' | 'udp' | 'sctp';

export interface ServicePort {
  namespace: string;
  service: string;
  /** The port's name ('' when the Service has one unnamed port). */
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when none. */
  nodePort: number;
  /** status.loadBalancer.ingress IPs that are VIPs (ipMode Proxy ones are not captured). */
  loadBalancerIPs: string[];
  externalIPs: string[];
  /** spec.loadBalancerSourceRanges (or the older annotation): who may use the load-balancer IPs; empty = everyone. */
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout; undefined when sessionAffinity is None. */
  stickyMaxAgeSeconds?: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
}

export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node (nodeName equals the proxy's node). */
  local: boolean;
}

/** kube's ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port. */
export function servicePortName(sp: Pick<ServicePort, 'namespace' | 'service' | 'portName'>): string {
  return `${sp.namespace}/${sp.service}${sp.portName ? `:${sp.portName}` : ''}`;
}

export function externallyAccessible(sp: ServicePort): boolean {
  return sp.nodePort > 0 || sp.loadBalancerIPs.length > 0 || sp.externalIPs.length > 0;
}

/** Whether Cluster-policy endpoints are used by some traffic (UsesClusterEndpoints). */
export function usesClusterEndpoints(sp: ServicePort): boolean {
  return !sp.internalPolicyLocal || (externallyAccessible(sp) && !sp.externalPolicyLocal);
}

/** Whether Local-policy endpoints are used by some traffic (UsesLocalEndpoints). */
export function usesLocalEndpoints(sp: ServicePort): boolean {
  return sp.internalPolicyLocal || (externallyAccessible(sp) && sp.externalPolicyLocal);
}

const isIPv4 = (ip: unknown): ip is string => typeof ip === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
const isIPv4CIDR = (c: string) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c);
/** The annotation older clients set instead of spec.loadBalancerSourceRanges. */
export const sourceRangesAnnotation = 'service.beta.kubernetes.io/load-balancer-source-ranges';

function ipv4Number(ip: string): number {
  return ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
}

/** Whether an IPv4 address is in one of the CIDRs. */
export function inCIDRs(ip: string, cidrs: string[]): boolean {
  if (!isIPv4(ip)) return false;
  const n = ipv4Number(ip);
  return cidrs.some((c) => {
    const [base, bits] = c.split('/');
    const size = 2 ** (32 - Number(bits));
    return Math.floor(n / size) === Math.floor(ipv4Number(base) / size);
  });
}

/** Whether the proxy implements this Service at all (ShouldSkipService plus skiff's node-local DNS). */
export function proxiedService(svc: KObject): boolean {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return false;
  if (!isIPv4(spec.clusterIP)) return false;
  if (svc.metadata?.annotations?.[nodeLocalAnnotation] === 'true') return false;
  const labels = svc.metadata?.labels ?? {};
  if (labels[serviceProxyNameLabel] !== undefined || labels[headlessLabel] !== undefined) return false;
  return true;
}

/** The IPv4 ports of a Service the proxy serves (none when it is not proxied). */
export function servicePortsOf(svc: KObject): ServicePort[] {
  if (!proxiedService(svc)) return [];
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  const lbIPs =
    type === 'LoadBalancer'
      ? ((svc.status?.loadBalancer?.ingress ?? []) as KObject[]).filter((i) => isIPv4(i?.ip) && i.ipMode !== 'Proxy').map((i) => i.ip as string)
      : [];
  const externalIPs = ((spec.externalIPs ?? []) as unknown[]).filter(isIPv4);
  const ranges = ((spec.loadBalancerSourceRanges?.length ? spec.loadBalancerSourceRanges : String(svc.metadata?.annotations?.[sourceRangesAnnotation] ?? '').split(',')) as unknown[])
    .map((r) => String(r).trim())
    .filter(isIPv4CIDR);
  const sticky = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? defaultStickyMaxAgeSeconds) : undefined;
  const out: ServicePort[] = [];
  for (const p of (spec.ports ?? []) as KObject[]) {
    const protocol = String(p.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    out.push({
      namespace: svc.metadata?.namespace ?? 'default',
      service: svc.metadata?.name ?? '',
      portName: p.name ?? '',
      protocol,
      clusterIP: spec.clusterIP,
      port: Number(p.port),
      nodePort: type === 'NodePort' || type === 'LoadBalancer' ? Number(p.nodePort ?? 0) : 0,
      loadBalancerIPs: [...new Set(lbIPs)],
      externalIPs: [...new Set(externalIPs)],
      loadBalancerSourceRanges: type === 'LoadBalancer' ? ranges : [],
      stickyMaxAgeSeconds: sticky,
      // Only externally reachable types honour externalTrafficPolicy (ExternalPolicyLocal).
      externalPolicyLocal: (type === 'NodePort' || type === 'LoadBalancer' || externalIPs.length > 0) && spec.externalTrafficPolicy === 'Local',
      internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
    });
  }
  return out;
}

/**
 * The endpoints of one Service port across the Service's IPv4 EndpointSlices: the slice
 * port with the same name and protocol, each endpoint's first address, deduplicated by
 * address and port. Unset conditions mean ready/serving (the API's rule).
 */
export function endpointsFor(sp: ServicePort, slices: KObject[], nodeName: string): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const port = ((slice.ports ?? []) as KObject[]).find((p) => (p.name ?? '') === sp.portName && String(p.protocol ?? 'TCP').toLowerCase() === sp.protocol);
    if (!port || typeof port.port !== 'number') continue;
    for (const ep of (slice.endpoints ?? []) as KObject[]) {
      const ip = ep.addresses?.[0];
      if (!isIPv4(ip)) continue;
      const key = `${ip}:${port.port}`;
      if (seen.has(key)) continue;
      const c = ep.conditions ?? {};
      seen.set(key, {
        ip,
        port: port.port,
        ready: c.ready !== false,
        serving: c.serving !== false,
        terminating: c.terminating === true,
        local: !!ep.nodeName && ep.nodeName === nodeName,
      });
    }
  }
  return [...seen.values()].sort((a, b) => compareIP(a.ip, b.ip) || a.port - b.port);
}

function compareIP(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

export interface CategorizedEndpoints {
  /** Endpoints for Cluster traffic policy: ready ones, else serving-terminating ones. */
  cluster: Endpoint[];
  /** Endpoints for Local traffic policy: local ready ones, else local serving-terminating ones. */
  local: Endpoint[];
  /** Every endpoint some rule may send traffic to. */
  allReachable: Endpoint[];
  /** Some usable endpoint exists anywhere in the cluster. */
  hasAny: boolean;
}

/** kube-proxy's CategorizeEndpoints (without topology hints). */
export function categorizeEndpoints(sp: ServicePort, endpoints: Endpoint[]): CategorizedEndpoints {
  let cluster: Endpoint[] = [];
  let local: Endpoint[] = [];
  let hasAny = false;
  if (usesClusterEndpoints(sp)) {
    cluster = endpoints.filter((e) => e.ready);
    // Terminating endpoints still serving take traffic only when nothing ready is left.
    if (cluster.length === 0) cluster = endpoints.filter((e) => e.serving && e.terminating);
    hasAny = cluster.length > 0;
  }
  if (!usesLocalEndpoints(sp)) return { cluster, local, allReachable: cluster, hasAny };
  let localReady = false;
  let localServingTerminating = false;
  for (const e of endpoints) {
    if (e.ready) {
      hasAny = true;
      if (e.local) localReady = true;
    } else if (e.serving && e.terminating) {
      hasAny = true;
      if (e.local) localServingTerminating = true;
    }
  }
  if (localReady) local = endpoints.filter((e) => e.local && e.ready);
  else if (localServingTerminating) local = endpoints.filter((e) => e.local && e.serving && e.terminating);
  if (!usesClusterEndpoints(sp)) return { cluster, local, allReachable: local, hasAny };
  if (!localServingTerminating || localReady) return { cluster, local, allReachable: cluster, hasAny };
  const merged = new Map<string, Endpoint>();
  for (const e of [...cluster, ...local]) merged.set(`${e.ip}:${e.port}`, e);
  return { cluster, local, allReachable: [...merged.values()], hasAny };
}
