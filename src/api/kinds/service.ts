/**
 * @module core/v1 Service: defaults of SetDefaults_Service, the clusterIP/clusterIPs and
 * IP-family bookkeeping kube-apiserver does around allocation, ValidateService /
 * ValidateServiceUpdate with kube's messages, and the printer behind `kubectl get svc`.
 * The allocators (ClusterIP, NodePort) live in the API server; it asks this file what
 * a Service needs (needsClusterIP, needsNodePorts, ...) and how to word allocation errors.
 */
import { type FieldError, duplicate, forbidden, invalid, notSupported, required } from '../errors.js';
import { age, formatMap } from '../print.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import { isDNS1035Label, isDNS1123Subdomain, validateLabels } from '../validation.js';
import { ageColumn, column, goIntOrString, nameColumn, validateDNS1123Label, validateDNS1123Subdomain, validateQualifiedName } from './kind-util.js';
import {
  clone,
  goQuote,
  goStringSlice,
  ipFamilyOf,
  isIPv6String,
  isValidPortNum,
  loadBalancerIngressString,
  parseIP,
  supportedPortProtocols,
  validateCIDR,
  validateIP,
  validateNonSpecialIP,
  validatePortNumOrName,
  withRepr,
} from './netmisc-util.js';

export type IPFamily = 'IPv4' | 'IPv6';

/** The cluster's service network as the allocators see it (k3s defaults). */
export interface ServiceNetworkConfig {
  /** Configured families, primary first (--service-cluster-ip-range order). */
  ipFamilies: IPFamily[];
  /** --service-node-port-range, inclusive. */
  nodePortRange: { base: number; size: number };
}

export const serviceNetworkConfig: ServiceNetworkConfig = {
  ipFamilies: ['IPv4'],
  nodePortRange: { base: 30000, size: 2768 },
};

/** Called once by the API server at start-up with its flags. */
export function configureServiceNetwork(cfg: Partial<ServiceNetworkConfig>): void {
  if (cfg.ipFamilies?.length) serviceNetworkConfig.ipFamilies = [...cfg.ipFamilies];
  if (cfg.nodePortRange) serviceNetworkConfig.nodePortRange = { ...cfg.nodePortRange };
}

/**
 * k3s's default --cluster-dns for a --service-cidr: the block's tenth address (10.43.0.10
 * for 10.43.0.0/16). IPv4 only; undefined for anything else.
 */
export function defaultClusterDNS(serviceCIDR: string): string | undefined {
  const [ip, bits] = serviceCIDR.split('/');
  const prefix = Number(bits);
  const parsed = parseIP(ip ?? '');
  if (!parsed?.is4 || !Number.isInteger(prefix) || prefix < 0 || prefix > 28) return undefined;
  const b = parsed.bytes.slice(12);
  const n = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
  const size = 2 ** (32 - prefix);
  const dns = n - (n % size) + 10;
  return [(dns >>> 24) & 255, (dns >>> 16) & 255, (dns >>> 8) & 255, dns & 255].join('.');
}

/** Whether an IPv4 address lies inside an IPv4 CIDR. */
export function ipv4InCIDR(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = parseIP(ip);
  const n = parseIP(net ?? '');
  const prefix = Number(bits);
  if (!a?.is4 || !n?.is4 || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return false;
  const num = (b: number[]) => ((b[12] << 24) >>> 0) + (b[13] << 16) + (b[14] << 8) + b[15];
  const size = 2 ** (32 - prefix);
  return Math.floor(num(a.bytes) / size) === Math.floor(num(n.bytes) / size);
}

/** "30000-32767" (--service-node-port-range) → base and size; undefined when malformed. */
export function parseNodePortRange(text: string): { base: number; size: number } | undefined {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) return undefined;
  return { base: lo, size: hi - lo + 1 };
}

function nodePortRangeString(): string {
  const r = serviceNetworkConfig.nodePortRange;
  return `${r.base}-${r.base + r.size - 1}`;
}

const maxClientIPServiceAffinitySeconds = 86400;
const defaultClientIPServiceAffinitySeconds = 10800;
/** The kubelet's port; cloud firewalls that over-open would expose it on load balancers. */
const kubeletPort = 10250;

const supportedServiceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const supportedSessionAffinity = ['ClientIP', 'None'];
const supportedIPFamilies = ['IPv4', 'IPv6'];
const supportedIPFamilyPolicies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
const supportedTrafficPolicies = ['Cluster', 'Local'];

// ---------------------------------------------------------------------------
// Predicates the API server's allocators use.

/** clusterIP "None": no virtual IP, DNS answers with the endpoints. */
export function isHeadlessService(svc: KObject): boolean {
  const spec = svc.spec ?? {};
  return spec.clusterIP === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None');
}

/** Service types that carry clusterIP/clusterIPs at all (everything but ExternalName). */
export function hasClusterIPFields(svc: KObject): boolean {
  return svc.spec?.type !== 'ExternalName';
}

/** Whether the ClusterIP allocator must hand this Service an address (not ExternalName, not headless). */
export function needsClusterIP(svc: KObject): boolean {
  return hasClusterIPFields(svc) && !isHeadlessService(svc);
}

/** Types whose ports carry node ports (kube's needsNodePort). */
export function hasNodePorts(svc: KObject): boolean {
  const t = svc.spec?.type;
  return t === 'NodePort' || t === 'LoadBalancer';
}

/**
 * Whether ports without a nodePort get one allocated: NodePort always, LoadBalancer unless
 * allocateLoadBalancerNodePorts is false (kube's shouldAllocateNodePorts).
 */
export function needsNodePorts(svc: KObject): boolean {
  const t = svc.spec?.type;
  if (t === 'NodePort') return true;
  if (t === 'LoadBalancer') return svc.spec?.allocateLoadBalancerNodePorts !== false;
  return false;
}

/** LoadBalancer with externalTrafficPolicy Local needs a healthCheckNodePort. */
export function needsHealthCheckNodePort(svc: KObject): boolean {
  return svc.spec?.type === 'LoadBalancer' && svc.spec?.externalTrafficPolicy === 'Local';
}

/** ExternallyAccessible of pkg/api/v1/service: reachable from outside the cluster network. */
export function externallyAccessible(svc: KObject): boolean {
  const t = svc.spec?.type;
  return t === 'LoadBalancer' || t === 'NodePort' || (t === 'ClusterIP' && (svc.spec?.externalIPs?.length ?? 0) > 0);
}

/** `spec.ports[i].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767` */
export function nodePortNotInRangeError(portIndex: number, nodePort: number): FieldError {
  return invalid(
    `spec.ports[${portIndex}].nodePort`,
    nodePort,
    `provided port is not in the valid range. The range of valid ports is ${nodePortRangeString()}`,
  );
}

/** `spec.ports[i].nodePort: Invalid value: 30080: provided port is already allocated` */
export function nodePortAllocatedError(portIndex: number, nodePort: number): FieldError {
  return invalid(`spec.ports[${portIndex}].nodePort`, nodePort, 'provided port is already allocated');
}

/** `spec.healthCheckNodePort: Invalid value: …: …` for an explicit health-check port the allocator rejects. */
export function healthCheckNodePortError(nodePort: number, reason: string): FieldError {
  return invalid('spec.healthCheckNodePort', nodePort, reason);
}

/**
 * `spec.clusterIPs: Invalid value: []string{"10.43.0.1"}: failed to allocate IP 10.43.0.1: provided IP is already allocated`.
 * `reason` is "provided IP is already allocated" or
 * "the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16".
 */
export function clusterIPAllocationError(svc: KObject, ip: string, reason: string): FieldError {
  const ips: string[] = svc.spec?.clusterIPs ?? [];
  return withRepr(invalid('spec.clusterIPs', ips, `failed to allocate IP ${ip}: ${reason}`), goStringSlice(ips));
}

/** The node ports a Service holds (ports and health check), for release after delete or type change. */
export function allocatedNodePorts(svc: KObject): number[] {
  const out = new Set<number>();
  for (const p of svc.spec?.ports ?? []) if (typeof p?.nodePort === 'number' && p.nodePort > 0) out.add(p.nodePort);
  const hc = svc.spec?.healthCheckNodePort;
  if (typeof hc === 'number' && hc > 0) out.add(hc);
  return [...out];
}

/** The cluster IPs a Service holds (not "None"), for release after delete or type change. */
export function allocatedClusterIPs(svc: KObject): string[] {
  return ((svc.spec?.clusterIPs ?? []) as string[]).filter((ip) => ip && ip !== 'None');
}

// ---------------------------------------------------------------------------
// clusterIP <-> clusterIPs and IP families.

function sameStrings(a: unknown, b: unknown): boolean {
  const x = Array.isArray(a) ? a : [];
  const y = Array.isArray(b) ? b : [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * NormalizeClusterIPs: old clients set only the singular clusterIP, new ones both; keep them
 * in sync before anything looks at them (old is undefined on create).
 */
export function normalizeClusterIPs(svc: KObject, old?: KObject): void {
  const spec = svc.spec;
  if (!spec) return;
  if (!old) {
    if (spec.clusterIP && !(spec.clusterIPs?.length > 0)) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const oldSpec = old.spec ?? {};
  if ((oldSpec.clusterIPs?.length ?? 0) > 0 && !(spec.clusterIPs?.length > 0)) {
    // An old client patched some other field and did not send clusterIPs.
    if ((oldSpec.clusterIP ?? '') === (spec.clusterIP ?? '')) spec.clusterIPs = clone(oldSpec.clusterIPs);
  }
  if ((oldSpec.clusterIP ?? '') !== (spec.clusterIP ?? '')) {
    if (oldSpec.clusterIP && !spec.clusterIP) {
      if (sameStrings(oldSpec.clusterIPs, spec.clusterIPs)) delete spec.clusterIPs;
    } else if (sameStrings(oldSpec.clusterIPs, spec.clusterIPs)) {
      spec.clusterIPs = [spec.clusterIP];
    }
  }
}

/**
 * patchAllocatedValues: a PUT that omits allocated values (clusterIP, nodePorts,
 * healthCheckNodePort) keeps the ones already allocated, so `kubectl replace` is idempotent.
 */
export function patchAllocatedValues(svc: KObject, old: KObject): void {
  const spec = svc.spec;
  const oldSpec = old.spec;
  if (!spec || !oldSpec) return;
  if (hasClusterIPFields(old) && hasClusterIPFields(svc)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if (!(spec.clusterIPs?.length > 0) && oldSpec.clusterIPs?.length > 0) spec.clusterIPs = clone(oldSpec.clusterIPs);
  }
  if (hasNodePorts(old) && hasNodePorts(svc)) {
    const used = (s: KObject): Set<number> =>
      new Set(((s.ports ?? []) as KObject[]).map((p) => p?.nodePort).filter((n): n is number => typeof n === 'number' && n > 0));
    const oldUsed = used(oldSpec);
    const newUsed = used(spec);
    const taken = new Set([...oldUsed].filter((n) => newUsed.has(n)));
    const byName = new Map<string, number>();
    for (const p of oldSpec.ports ?? []) byName.set(p?.name ?? '', p?.nodePort ?? 0);
    for (const p of spec.ports ?? []) {
      if (!p || (p.nodePort ?? 0) !== 0) continue;
      const prev = byName.get(p.name ?? '');
      if (prev && !taken.has(prev)) p.nodePort = prev;
    }
  }
  if (needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc)) {
    if (!spec.healthCheckNodePort && oldSpec.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
  }
}

/**
 * dropTypeDependentFields: when the type changes away from one that needed a field the
 * server filled in, and the client left that field as it was, clear it.
 */
function dropTypeDependentFields(svc: KObject, old: KObject): void {
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  if (hasClusterIPFields(old) && !hasClusterIPFields(svc)) {
    if ((spec.clusterIP ?? '') === (oldSpec.clusterIP ?? '') && sameStrings(spec.clusterIPs, oldSpec.clusterIPs)) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (sameStrings(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === oldSpec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
  }
  const nodePortsOf = (s: KObject) => ((s.ports ?? []) as KObject[]).map((p) => p?.nodePort ?? 0);
  if (hasNodePorts(old) && !hasNodePorts(svc) && sameStrings(nodePortsOf(spec), nodePortsOf(oldSpec))) {
    for (const p of spec.ports ?? []) if (p) delete p.nodePort;
  }
  if (
    needsHealthCheckNodePort(old) &&
    !needsHealthCheckNodePort(svc) &&
    (spec.healthCheckNodePort ?? 0) === (oldSpec.healthCheckNodePort ?? 0)
  ) {
    delete spec.healthCheckNodePort;
  }
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (
      spec.allocateLoadBalancerNodePorts !== undefined &&
      oldSpec.allocateLoadBalancerNodePorts !== undefined &&
      spec.allocateLoadBalancerNodePorts === oldSpec.allocateLoadBalancerNodePorts
    )
      delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass === oldSpec.loadBalancerClass) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(old) && !externallyAccessible(svc) && spec.externalTrafficPolicy === oldSpec.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  // LB de-provisioning is asynchronous, but users need not see a stale address.
  if (spec.type !== 'LoadBalancer') svc.status = { ...(svc.status ?? {}), loadBalancer: {} };
}

/**
 * initIPFamilyFields for the configured families: ipFamilyPolicy defaults to SingleStack
 * (RequireDualStack for headless Services without selector), ipFamilies follows the cluster
 * IPs given or the cluster's primary family.
 */
export function initIPFamilies(svc: KObject): void {
  const spec = svc.spec;
  if (!spec || spec.type === 'ExternalName') return;
  const configured = serviceNetworkConfig.ipFamilies;
  const headlessSelectorless = isHeadlessService(svc) && Object.keys(spec.selector ?? {}).length === 0;
  if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = headlessSelectorless ? 'RequireDualStack' : 'SingleStack';
  const ips: string[] = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  const families: string[] = Array.isArray(spec.ipFamilies) ? [...spec.ipFamilies] : [];
  for (let i = 0; i < ips.length; i++) {
    if (ips[i] === 'None') break;
    const fam = ipFamilyOf(ips[i]);
    if (!fam) break;
    if (i >= families.length) families.push(fam);
  }
  if (families.length === 0) families.push(configured[0]);
  if (headlessSelectorless) {
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  } else if (spec.ipFamilyPolicy !== 'SingleStack' && families.length === 1 && configured.length === 2) {
    families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
  }
  spec.ipFamilies = families;
}

// ---------------------------------------------------------------------------
// Defaults.

export function defaultService(obj: KObject): void {
  if (!obj.spec || typeof obj.spec !== 'object') obj.spec = {};
  const spec = obj.spec;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: defaultClientIPServiceAffinitySeconds } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of spec.ports ?? []) {
    if (!p || typeof p !== 'object') continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (externallyAccessible(obj) && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.internalTrafficPolicy == null && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type))
    spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts == null) spec.allocateLoadBalancerNodePorts = true;
    // LoadBalancerIPMode (on by default since 1.30): an ingress IP is a VIP unless told otherwise.
    for (const ing of obj.status?.loadBalancer?.ingress ?? []) if (ing?.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  initIPFamilies(obj);
}

// ---------------------------------------------------------------------------
// Validation.

/** %#v of the core.ServicePort{Protocol, Port} key kube reports for a duplicate port. */
function goServicePortKey(p: KObject): string {
  return `core.ServicePort{Name:"", Protocol:${goQuote(String(p?.protocol ?? ''))}, AppProtocol:(*string)(nil), Port:${p?.port ?? 0}, TargetPort:${goIntOrString(0)}, NodePort:0}`;
}

function validateServicePort(
  sp: KObject,
  requireName: boolean,
  names: Set<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  const name: string = typeof sp?.name === 'string' ? sp.name : '';
  if (requireName && name.length === 0) errs.push(required(`${path}.name`));
  else if (name.length !== 0) {
    errs.push(...validateDNS1123Label(name, `${path}.name`));
    if (names.has(name)) errs.push(duplicate(`${path}.name`, name));
    else names.add(name);
  }
  for (const m of isValidPortNum(sp?.port)) errs.push(invalid(`${path}.port`, sp?.port ?? 0, m));
  if (!sp?.protocol) errs.push(required(`${path}.protocol`));
  else if (!supportedPortProtocols.includes(sp.protocol)) errs.push(notSupported(`${path}.protocol`, sp.protocol, supportedPortProtocols));
  errs.push(...validatePortNumOrName(sp?.targetPort, `${path}.targetPort`));
  if (sp?.appProtocol != null) errs.push(...validateQualifiedName(String(sp.appProtocol), `${path}.appProtocol`));
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPsRelatedFields(svc: KObject): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const ipsPath = 'spec.clusterIPs';
  let hasInvalidIPs = false;
  if (spec.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath));
    else if (ips[0] !== spec.clusterIP)
      errs.push(withRepr(invalid(ipsPath, ips, 'first value must match `clusterIP`'), goStringSlice(ips)));
  } else if (ips.length !== 0) {
    errs.push(withRepr(invalid(ipsPath, ips, 'must be empty when `clusterIP` is not specified'), goStringSlice(ips)));
  }
  const families: string[] = Array.isArray(spec.ipFamilies) ? spec.ipFamilies : [];
  const seen = new Set<string>();
  families.forEach((f, i) => {
    if (!supportedIPFamilies.includes(f)) errs.push(notSupported(`spec.ipFamilies[${i}]`, f, supportedIPFamilies));
    if (seen.has(f)) errs.push(duplicate(`spec.ipFamilies[${i}]`, f));
    seen.add(f);
  });
  if (spec.ipFamilyPolicy != null && !supportedIPFamilyPolicies.includes(spec.ipFamilyPolicy))
    errs.push(notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, supportedIPFamilyPolicies));
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        hasInvalidIPs = true;
        errs.push(withRepr(invalid(ipsPath, ips, "'None' must be the first and only value"), goStringSlice(ips)));
      }
      return;
    }
    const e = validateIP(ip, `${ipsPath}[${i}]`);
    if (e.length) {
      hasInvalidIPs = true;
      errs.push(...e);
    }
  });
  if (ips.length > 2) {
    hasInvalidIPs = true;
    errs.push(withRepr(invalid(ipsPath, ips, 'may only hold up to 2 values'), goStringSlice(ips)));
  }
  if (hasInvalidIPs) return errs;
  if (ips.length > 1 && ipFamilyOf(ips[0]) === ipFamilyOf(ips[1]))
    errs.push(withRepr(invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'), goStringSlice(ips)));
  if (!isHeadlessService(svc) && ips.length > 0 && families.length > 0) {
    for (let i = 0; i < ips.length && i < families.length; i++) {
      if (families[i] === 'IPv4' && isIPv6String(ips[i]))
        errs.push(invalid(`${ipsPath}[${i}]`, ips[i], `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6String(ips[i]))
        errs.push(invalid(`${ipsPath}[${i}]`, ips[i], `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    }
  }
  return errs;
}

/** The allocator's checks of families against the cluster configuration (initIPFamilyFields). */
function validateFamiliesConfigured(svc: KObject): FieldError[] {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName') return [];
  if (isHeadlessService(svc) && Object.keys(spec.selector ?? {}).length === 0) return [];
  const errs: FieldError[] = [];
  const configured = serviceNetworkConfig.ipFamilies;
  if (spec.ipFamilyPolicy === 'SingleStack') {
    if ((spec.clusterIPs?.length ?? 0) === 2)
      errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    if ((spec.ipFamilies?.length ?? 0) === 2)
      errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  }
  if (spec.ipFamilyPolicy === 'RequireDualStack' && configured.length < 2)
    errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy, 'this cluster is not configured for dual-stack services'));
  ((spec.ipFamilies ?? []) as string[]).forEach((f, i) => {
    if (supportedIPFamilies.includes(f) && !configured.includes(f as IPFamily))
      errs.push(invalid(`spec.ipFamilies[${i}]`, f, 'not configured on this cluster'));
  });
  return errs;
}

export function validateService(svc: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = svc.metadata?.name;
  // Service names become DNS labels and environment variable prefixes: DNS-1035, stricter
  // than the subdomain rule the generic metadata validation applies.
  if (name && isDNS1123Subdomain(name).length === 0) for (const m of isDNS1035Label(name)) errs.push(invalid('metadata.name', name, m));
  const spec = svc.spec ?? {};
  const ports: KObject[] = Array.isArray(spec.ports) ? spec.ports : [];
  const headless = isHeadlessService(svc);
  const ann = svc.metadata?.annotations ?? {};
  const hintsKey = 'service.kubernetes.io/topology-aware-hints';
  const modeKey = 'service.kubernetes.io/topology-mode';
  if (ann[modeKey] !== undefined && ann[hintsKey] !== undefined && ann[modeKey] !== ann[hintsKey])
    errs.push(invalid(`metadata.annotations[${modeKey}]`, ann[modeKey], `must match annotations[${hintsKey}] when both are specified`));

  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));
  const firstIP = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length ? spec.clusterIPs[0] : spec.clusterIP;
  switch (spec.type) {
    case 'LoadBalancer':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', firstIP, "may not be set to 'None' for LoadBalancer services"));
      ports.forEach((p, i) => {
        if (p?.port === kubeletPort)
          errs.push(invalid(`spec.ports[${i}]`, p.port, `may not expose port ${kubeletPort} externally since it is used by kubelet`));
      });
      break;
    case 'NodePort':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', firstIP, "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if ((spec.clusterIPs?.length ?? 0) > 0 || spec.clusterIP)
        errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if ((spec.ipFamilies?.length ?? 0) > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy != null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // The CNAME may end with a dot to mark it fully qualified.
      const cname = String(spec.externalName ?? '').replace(/\.$/, '');
      if (cname.length > 0) errs.push(...validateDNS1123Subdomain(cname, 'spec.externalName'));
      else errs.push(required('spec.externalName'));
      break;
    }
  }

  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, `spec.ports[${i}]`)));

  if (spec.selector != null) errs.push(...validateLabels(spec.selector, 'spec.selector'));

  if (!spec.sessionAffinity) errs.push(required('spec.sessionAffinity'));
  else if (!supportedSessionAffinity.includes(spec.sessionAffinity))
    errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, supportedSessionAffinity));
  if (spec.sessionAffinity === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const why = 'when session affinity type is ClientIP';
    if (!cfg) errs.push(required('spec.sessionAffinityConfig', why));
    else if (!cfg.clientIP) errs.push(required('spec.sessionAffinityConfig.clientIP', why));
    else if (cfg.clientIP.timeoutSeconds == null) errs.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', why));
    else {
      const t = cfg.clientIP.timeoutSeconds;
      if (!(t > 0) || t > maxClientIPServiceAffinitySeconds)
        errs.push(
          invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', t, `must be greater than 0 and less than ${maxClientIPServiceAffinitySeconds}`),
        );
    }
  } else if (spec.sessionAffinity === 'None' && spec.sessionAffinityConfig != null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  errs.push(...validateClusterIPsRelatedFields(svc));

  ((spec.externalIPs ?? []) as string[]).forEach((ip, i) => {
    const e = validateIP(ip, `spec.externalIPs[${i}]`);
    errs.push(...(e.length ? e : validateNonSpecialIP(ip, `spec.externalIPs[${i}]`)));
  });

  if (!spec.type) errs.push(required('spec.type'));
  else if (!supportedServiceTypes.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, supportedServiceTypes));

  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (p?.nodePort) errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    });
  }

  // Node ports are unique per (protocol, nodePort); ports per (protocol, port).
  const nodePortKeys = new Set<string>();
  ports.forEach((p, i) => {
    if (!p?.nodePort) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePortKeys.has(key)) errs.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
    nodePortKeys.add(key);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p?.protocol}/${p?.port}`;
    if (portKeys.has(key)) errs.push(withRepr(duplicate(`spec.ports[${i}]`, { protocol: p?.protocol, port: p?.port }), goServicePortKey(p)));
    portKeys.add(key);
  });

  // The NodePort allocator's range check, worded as the allocator words it.
  if (hasNodePorts(svc)) {
    const r = serviceNetworkConfig.nodePortRange;
    ports.forEach((p, i) => {
      const np = p?.nodePort;
      if (typeof np === 'number' && np !== 0 && (np < r.base || np >= r.base + r.size)) errs.push(nodePortNotInRangeError(i, np));
    });
  }

  const ranges: string[] = Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : [];
  if (ranges.length > 0) {
    // kube-apiserver names this path with a capital L.
    if (spec.type !== 'LoadBalancer') errs.push(forbidden('spec.LoadBalancerSourceRanges', "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((v, i) => errs.push(...validateCIDR(String(v).trim(), `spec.LoadBalancerSourceRanges[${i}]`)));
  }

  if (spec.allocateLoadBalancerNodePorts != null && spec.type !== 'LoadBalancer')
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts == null)
    errs.push(required('allocateLoadBalancerNodePorts'));

  if (spec.loadBalancerClass != null) {
    if (spec.type !== 'LoadBalancer') errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
    else errs.push(...validateQualifiedName(String(spec.loadBalancerClass), 'spec.loadBalancerClass'));
  }

  if (!externallyAccessible(svc)) {
    if (spec.externalTrafficPolicy)
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
  } else if (!spec.externalTrafficPolicy) {
    errs.push(required('spec.externalTrafficPolicy'));
  } else if (!supportedTrafficPolicies.includes(spec.externalTrafficPolicy)) {
    errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, supportedTrafficPolicies));
  }
  if (!needsHealthCheckNodePort(svc)) {
    if (spec.healthCheckNodePort)
      errs.push(
        invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
      );
  } else if (spec.healthCheckNodePort) {
    // A missing port is the allocator's to fill; only explicit values are checked here.
    for (const m of isValidPortNum(spec.healthCheckNodePort)) errs.push(invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, m));
  }

  if (spec.internalTrafficPolicy == null) {
    if (['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type))
      errs.push(required('spec.internalTrafficPolicy', "must be specified when `type` is 'ClusterIP', 'NodePort', or 'LoadBalancer'"));
  } else if (!supportedTrafficPolicies.includes(spec.internalTrafficPolicy)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, supportedTrafficPolicies));
  }

  if (spec.trafficDistribution != null && spec.trafficDistribution !== 'PreferClose')
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));

  errs.push(...validateFamiliesConfigured(svc));
  errs.push(...validateLoadBalancerStatus(svc.status?.loadBalancer));
  return errs;
}

function validateLoadBalancerStatus(lb: KObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  ((lb?.ingress ?? []) as KObject[]).forEach((ing, i) => {
    const path = `status.loadBalancer.ingress[${i}]`;
    if (ing?.ip) errs.push(...validateIP(ing.ip, `${path}.ip`));
    if (ing?.ipMode != null) {
      if (!ing.ip) errs.push(forbidden(`${path}.ipMode`, 'may not be set when `ip` is not set'));
      else if (!['Proxy', 'VIP'].includes(ing.ipMode)) errs.push(notSupported(`${path}.ipMode`, ing.ipMode, ['Proxy', 'VIP']));
    }
    if (ing?.hostname) {
      errs.push(...validateDNS1123Subdomain(ing.hostname, `${path}.hostname`));
      if (parseIP(ing.hostname)) errs.push(invalid(`${path}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

function goIPFamilies(xs: string[] | undefined): string {
  if (!xs) return '[]core.IPFamily(nil)';
  return `[]core.IPFamily{${xs.map(goQuote).join(', ')}}`;
}

/** validateUpgradeDowngradeClusterIPs / IPFamilies / LoadBalancerClass of ValidateServiceUpdate. */
export function validateServiceUpdate(svc: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  const oldSpec = old.spec ?? {};
  const ips: string[] = spec.clusterIPs ?? [];
  const oldIPs: string[] = oldSpec.clusterIPs ?? [];
  const ipsText = goStringSlice(spec.clusterIPs);
  const externalName = spec.type === 'ExternalName' || oldSpec.type === 'ExternalName';
  if (!externalName) {
    const newHeadless = isHeadlessService(svc);
    const oldHeadless = isHeadlessService(old);
    if (!(newHeadless && oldHeadless)) {
      if (oldIPs.length === ips.length) {
        oldIPs.forEach((ip, i) => {
          if (ip !== ips[i]) errs.push(withRepr(invalid(`spec.clusterIPs[${i}]`, ips, 'may not change once set'), ipsText));
        });
      } else if (oldIPs.length > ips.length) {
        if (ips.length === 0) errs.push(withRepr(invalid('spec.clusterIPs[0]', ips, 'primary clusterIP can not be unset'), ipsText));
        if (oldIPs.length > 0 && ips.length > 0 && ips[0] !== oldIPs[0])
          errs.push(withRepr(invalid('spec.clusterIPs[0]', ips, 'may not change once set'), ipsText));
        if (ips.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
          errs.push(
            withRepr(
              invalid('spec.clusterIPs[0]', ips, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary clusterIP"),
              ipsText,
            ),
          );
      } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
        errs.push(withRepr(invalid('spec.clusterIPs[0]', ips, 'may not change once set'), ipsText));
      }
    }
    if (newHeadless === oldHeadless && !newHeadless) {
      const fams: string[] = spec.ipFamilies ?? [];
      const oldFams: string[] = oldSpec.ipFamilies ?? [];
      if (oldFams.length === fams.length) {
        oldFams.forEach((f, i) => {
          if (f !== fams[i]) errs.push(withRepr(invalid('spec.ipFamilies[0]', fams, 'may not change once set'), goIPFamilies(spec.ipFamilies)));
        });
      } else if (oldFams.length > fams.length) {
        if (ips.length === 0) errs.push(withRepr(invalid('spec.ipFamilies[0]', fams, 'primary ipFamily can not be unset'), goIPFamilies(spec.ipFamilies)));
        if (fams.length > 0 && fams[0] !== oldFams[0]) errs.push(withRepr(invalid('spec.ipFamilies[0]', ips, 'may not change once set'), ipsText));
        if (fams.length === 1 && spec.ipFamilyPolicy !== 'SingleStack')
          errs.push(
            withRepr(
              invalid('spec.clusterIPs[0]', ips, "`ipFamilyPolicy` must be set to 'SingleStack' when releasing the secondary ipFamily"),
              ipsText,
            ),
          );
      } else if (oldFams.length > 0 && fams.length > 0 && fams[0] !== oldFams[0]) {
        errs.push(withRepr(invalid('spec.ipFamilies[0]', ips, 'may not change once set'), ipsText));
      }
    }
  }
  // loadBalancerClass is immutable while the Service stays a LoadBalancer.
  if (oldSpec.type === 'LoadBalancer' && spec.type === 'LoadBalancer' && (oldSpec.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null))
    errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? null, 'may not change once set'));
  return errs;
}

// ---------------------------------------------------------------------------
// Printer.

/** makePortString: "80:30080/TCP,443/TCP". */
export function servicePortsString(ports: KObject[] | undefined): string {
  return (ports ?? [])
    .map((p) => (p?.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p?.port}/${p?.protocol}`))
    .join(',');
}

/** getServiceExternalIP, wide (the server never clips it). */
export function serviceExternalIP(svc: KObject): string {
  const spec = svc.spec ?? {};
  const externalIPs: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngressString(svc.status?.loadBalancer?.ingress);
      if (externalIPs.length) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

export const serviceResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  nameValidator: isDNS1035Label,
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  subresources: { status: true },
  extraSubresources: ['proxy'],
  tracksGeneration: false,
  defaults: defaultService,
  prepareForCreate(obj: KObject, _ctx: StrategyContext) {
    obj.status = { loadBalancer: {} };
    normalizeClusterIPs(obj);
  },
  prepareForUpdate(obj: KObject, old: KObject, ctx: StrategyContext) {
    if (ctx.subresource === 'status') return;
    patchAllocatedValues(obj, old);
    normalizeClusterIPs(obj, old);
    dropTypeDependentFields(obj, old);
  },
  validate: validateService,
  validateUpdate: validateServiceUpdate,
  fieldSelectors: {
    'spec.clusterIP': (o) => o.spec?.clusterIP ?? '',
    'spec.type': (o) => o.spec?.type ?? '',
  },
  table: {
    columns: [
      nameColumn,
      column('Type', 'string', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types'),
      column('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
      column('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.'),
      column('Port(s)', 'string', 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
      ageColumn,
      column('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/', 1),
    ],
    cells(obj: KObject, now: Date) {
      const spec = obj.spec ?? {};
      const clusterIP = Array.isArray(spec.clusterIPs) && spec.clusterIPs.length ? spec.clusterIPs[0] : '<none>';
      const ports = servicePortsString(spec.ports) || '<none>';
      return [
        obj.metadata?.name ?? '',
        spec.type ?? '',
        clusterIP,
        serviceExternalIP(obj),
        ports,
        age(obj.metadata?.creationTimestamp, now),
        formatMap(spec.selector),
      ];
    },
  },
};

/** Service names are DNS-1035 labels (they become DNS names and environment variables). */
export const validateServiceName = isDNS1035Label;
