/**
 * @module The service proxy's nftables ruleset as data, in the layout of kube-proxy's
 * nftables mode: one table per node; `services` dispatches through the service-ips and
 * service-nodeports verdict maps to a chain per Service port, which picks an endpoint
 * chain with `numgen random mod N` (after ClientIP affinity sets), each endpoint chain
 * DNATs; Services without usable endpoints are rejected before DNAT from the filter
 * hooks; marked connections are masqueraded. `renderFull` writes the whole table (first
 * sync, recovery); `renderChanges` only what differs from the last applied ruleset, both
 * as one `nft -f` transaction.
 */
import { createHash } from 'node:crypto';
import {
  categorizeEndpoints,
  externallyAccessible,
  inCIDRs,
  servicePortName,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type Endpoint,
  type ServicePort,
} from './service-ports.js';

export interface RulesetConfig {
  table: string;
  /** The node's pod bridge: traffic from it is this node's pods'. */
  bridge: string;
  /** All pods of the cluster: sources outside it are masqueraded on their way to a ClusterIP. */
  clusterCIDR: string;
  /** The Service ClusterIP range: addresses in it that no Service holds are rejected. */
  serviceCIDR: string;
  /** Non-loopback node addresses that take NodePort traffic. */
  nodePortIPs: string[];
  /**
   * Masquerade DNATed traffic that leaves through the bridge it came in on. Needed when
   * br_netfilter does not pass bridged replies through conntrack (bridge-nf-call-iptables 0):
   * without it a pod's reply to another pod on the same bridge skips the reverse NAT.
   */
  masqueradeSameBridge: boolean;
}

export interface ServiceRulesInput {
  port: ServicePort;
  endpoints: Endpoint[];
}

/** The service-dependent part of the table. */
export interface Ruleset {
  /** Per-service and per-endpoint chains: name → rules. */
  chains: Map<string, string[]>;
  /** Affinity sets: name → timeout seconds. */
  affinitySets: Map<string, number>;
  /** Verdict maps: map → key → verdict (and the Service port it belongs to, as a comment). */
  maps: Record<MapName, Map<string, MapValue>>;
  /** Every ClusterIP served: other ports of these addresses are rejected. */
  clusterIPs: Set<string>;
}

export interface MapValue {
  verdict: string;
  comment?: string;
}

export type MapName = 'service-ips' | 'service-nodeports' | 'no-endpoint-services' | 'no-endpoint-nodeports' | 'firewall-ips';
const mapNames: MapName[] = ['service-ips', 'service-nodeports', 'no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips'];

/** kube-proxy's masquerade bit (--masquerade-bit 14). */
export const masqueradeMark = '0x00004000';

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(buf: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** nftables names are at most 256 bytes; kube keeps 16 for the prefix. */
const chainNameBaseLengthMax = 256 - 16;

/** A hash of the name in front (unique and visually distinct), truncated like kube's hashAndTruncate. */
function hashAndTruncate(name: string): string {
  let out = hashed.get(name);
  if (out !== undefined) return out;
  // 8 base32 characters are the first 40 bits (5 bytes) of the digest.
  const full = `${base32(createHash('sha256').update(name).digest().subarray(0, 5))}-${name}`;
  out = full.length > chainNameBaseLengthMax ? `${full.slice(0, chainNameBaseLengthMax - 3)}...` : full;
  // Every sync names every chain again: remember them (bounded, for clusters with endpoint churn).
  if (hashed.size > 100_000) hashed.clear();
  hashed.set(name, out);
  return out;
}

const hashed = new Map<string, string>();

/** "HASH-ns/svc/tcp/port": '/' cannot appear in Kubernetes names, so these never clash with fixed chains. */
export function servicePortChainBase(sp: ServicePort): string {
  return hashAndTruncate(`${sp.namespace}/${sp.service}/${sp.protocol}/${sp.portName}`);
}

export function endpointChainBase(sp: ServicePort, ep: Endpoint): string {
  return hashAndTruncate(`${sp.namespace}/${sp.service}/${sp.protocol}/${sp.portName}__${ep.ip}/${ep.port}`);
}

/** Computes the service-dependent chains, sets and map elements (kube's syncProxyRules body). */
export function buildRuleset(cfg: RulesetConfig, services: ServiceRulesInput[]): Ruleset {
  return new RulesetBuilder(cfg).build(services);
}

/**
 * buildRuleset for a proxy that syncs again and again: a Service port whose spec and
 * endpoints did not change reuses the rules computed last time (the same arrays, so the
 * diff against the applied ruleset skips them at once) — kube-proxy's partial sync.
 */
export class RulesetBuilder {
  private cache = new Map<string, { fingerprint: string; part: Ruleset }>();

  constructor(private readonly cfg: RulesetConfig) {}

  build(services: ServiceRulesInput[]): Ruleset {
    const rs = emptyRuleset();
    const next = new Map<string, { fingerprint: string; part: Ruleset }>();
    const keyed = services.map((s) => ({ key: `${servicePortName(s.port)}/${s.port.protocol}`, s }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const { key, s } of keyed) {
      const fingerprint = JSON.stringify(s);
      let entry = this.cache.get(key);
      if (!entry || entry.fingerprint !== fingerprint) {
        const part = emptyRuleset();
        addServicePort(this.cfg, part, s.port, s.endpoints);
        entry = { fingerprint, part };
      }
      next.set(key, entry);
      for (const [name, rules] of entry.part.chains) rs.chains.set(name, rules);
      for (const [name, timeout] of entry.part.affinitySets) rs.affinitySets.set(name, timeout);
      for (const m of mapNames) for (const [k, v] of entry.part.maps[m]) rs.maps[m].set(k, v);
      for (const ip of entry.part.clusterIPs) rs.clusterIPs.add(ip);
    }
    this.cache = next;
    return rs;
  }
}

function addServicePort(cfg: RulesetConfig, rs: Ruleset, sp: ServicePort, all: Endpoint[]): void {
  const proto = sp.protocol;
  const name = servicePortName(sp);
  const base = servicePortChainBase(sp);
  const clusterChain = `service-${base}`;
  const localChain = `local-${base}`;
  const externalChain = `external-${base}`;
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(sp, all);
  const epChain = (ep: Endpoint) => `endpoint-${endpointChainBase(sp, ep)}`;
  const affinitySet = (ep: Endpoint) => `affinity-${endpointChainBase(sp, ep)}`;

  const usesClusterChain = cluster.length > 0 && usesClusterEndpoints(sp);
  const usesLocalChain = local.length > 0 && usesLocalEndpoints(sp);
  const internalChain = sp.internalPolicyLocal ? localChain : clusterChain;
  const hasInternal = sp.internalPolicyLocal ? local.length > 0 : hasAny;
  const externalPolicyChain = sp.externalPolicyLocal ? localChain : clusterChain;
  const hasExternal = sp.externalPolicyLocal ? local.length > 0 : hasAny;
  const usesExternalChain = hasAny && externallyAccessible(sp);

  // No endpoints at all: reject at once; only a Local policy without local endpoints drops.
  const internalFilter = !hasAny ? 'goto reject-chain' : !hasInternal ? 'drop' : '';
  const externalFilter = !hasAny ? 'goto reject-chain' : !hasExternal ? 'drop' : '';
  const ipKey = (ip: string, port: number) => `${ip} . ${proto} . ${port}`;

  rs.clusterIPs.add(sp.clusterIP);
  if (hasInternal) rs.maps['service-ips'].set(ipKey(sp.clusterIP, sp.port), { verdict: `goto ${internalChain}` });
  else rs.maps['no-endpoint-services'].set(ipKey(sp.clusterIP, sp.port), { verdict: internalFilter, comment: name });
  // A loopback VIP (a node at 127.x.y.z) cannot be DNATed to a pod (martian source): the userspace path serves it.
  for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs].filter((a) => !a.startsWith('127.'))) {
    if (hasAny) rs.maps['service-ips'].set(ipKey(ip, sp.port), { verdict: `goto ${externalChain}` });
    if (!hasExternal) rs.maps['no-endpoint-services'].set(ipKey(ip, sp.port), { verdict: externalFilter, comment: name });
  }
  // loadBalancerSourceRanges guard the load-balancer IPs (not NodePorts), before DNAT.
  const lbVIPs = sp.loadBalancerIPs.filter((a) => !a.startsWith('127.'));
  if (lbVIPs.length && sp.loadBalancerSourceRanges.length) {
    const fw = `firewall-${base}`;
    const sources = [...sp.loadBalancerSourceRanges];
    // The node reaching its own load-balancer IP arrives from that IP: allow it when the node is allowed.
    if (cfg.nodePortIPs.some((ip) => inCIDRs(ip, sp.loadBalancerSourceRanges))) sources.push(...lbVIPs);
    rs.chains.set(fw, [`ip saddr != { ${sources.join(', ')} } drop`]);
    for (const ip of lbVIPs) rs.maps['firewall-ips'].set(ipKey(ip, sp.port), { verdict: `goto ${fw}`, comment: name });
  }
  if (sp.nodePort > 0) {
    if (hasAny) rs.maps['service-nodeports'].set(`${proto} . ${sp.nodePort}`, { verdict: `goto ${externalChain}` });
    if (!hasExternal) rs.maps['no-endpoint-nodeports'].set(`${proto} . ${sp.nodePort}`, { verdict: externalFilter, comment: name });
  }

  const chain = (n: string): string[] => {
    let rules = rs.chains.get(n);
    if (!rules) rs.chains.set(n, (rules = []));
    return rules;
  };

  if (usesClusterChain) chain(clusterChain);
  if (usesLocalChain) chain(localChain);
  // Traffic to a ClusterIP from outside the pod network (the host, other machines) may leave the node: masquerade it.
  if (hasInternal && rs.chains.has(internalChain)) chain(internalChain).push(`ip daddr ${sp.clusterIP} ${proto} dport ${sp.port} ip saddr != ${cfg.clusterCIDR} jump mark-for-masquerade`);

  if (usesExternalChain) {
    const ext = chain(externalChain);
    if (!sp.externalPolicyLocal) {
      // Cluster policy may send it to another node: masquerade so replies come back this way.
      ext.push('jump mark-for-masquerade');
    } else if (usesClusterChain) {
      // Pods and the node itself reach external addresses as if from outside and back: no traffic policy.
      ext.push(`ip saddr ${cfg.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
      ext.push('fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
      ext.push(`fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
    }
    if (hasExternal && rs.chains.has(externalPolicyChain)) ext.push(`goto ${externalPolicyChain}`);
  }

  if (sp.stickyMaxAgeSeconds !== undefined) for (const ep of allReachable) rs.affinitySets.set(affinitySet(ep), sp.stickyMaxAgeSeconds);

  const writeEndpointRules = (chainName: string, eps: Endpoint[]) => {
    const rules = chain(chainName);
    if (sp.stickyMaxAgeSeconds !== undefined) for (const ep of eps) rules.push(`ip saddr @${affinitySet(ep)} goto ${epChain(ep)}`);
    rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((ep, i) => `${i} : goto ${epChain(ep)}`).join(', ')} }`);
  };
  if (usesClusterChain) writeEndpointRules(clusterChain, cluster);
  if (usesLocalChain) writeEndpointRules(localChain, local);

  for (const ep of allReachable) {
    const rules = chain(epChain(ep));
    // Hairpin: a pod reaching itself through its Service must not see its own address as the source.
    rules.push(`ip saddr ${ep.ip} jump mark-for-masquerade`);
    if (sp.stickyMaxAgeSeconds !== undefined) rules.push(`update @${affinitySet(ep)} { ip saddr }`);
    rules.push(`meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
  }
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

/**
 * The fixed part of the table: base chains, dispatch, reject and masquerade helpers, the
 * maps. With `flush`, each object is emptied right after it is (re)declared, so the same
 * text rewrites an existing table in place.
 */
function skeleton(cfg: RulesetConfig, flush: boolean): string[] {
  const t = `ip ${cfg.table}`;
  const br = quote(cfg.bridge);
  const out: string[] = [];
  const declare = (kind: 'chain' | 'set' | 'map', name: string, spec = '') => {
    out.push(`add ${kind} ${t} ${name}${spec ? ` { ${spec} ; }` : ''}`);
    if (flush) out.push(`flush ${kind} ${t} ${name}`);
  };
  out.push(`add table ${t} { comment "rules for skiff's service proxy" ; }`);
  // Filter chains see pre-DNAT destinations (-110: dstnat - 10); reject is only allowed in input, forward and output.
  for (const [name, hook] of [['filter-input', 'input'], ['filter-forward', 'forward'], ['filter-output', 'output']] as const) declare('chain', name, `type filter hook ${hook} priority -110`);
  declare('chain', 'filter-prerouting', 'type filter hook prerouting priority -110');
  // After DNAT (-90): what still goes to a ClusterIP matched no Service port.
  declare('chain', 'filter-output-post-dnat', 'type filter hook output priority -90');
  declare('chain', 'nat-prerouting', 'type nat hook prerouting priority -100');
  declare('chain', 'nat-output', 'type nat hook output priority -100');
  declare('chain', 'nat-postrouting', 'type nat hook postrouting priority 100');
  for (const c of ['services', 'endpoints-check', 'cluster-ips-check', 'firewall-check', 'reject-chain', 'mark-for-masquerade', 'masquerading']) declare('chain', c);
  declare('set', 'cluster-ips', 'type ipv4_addr ; comment "Active ClusterIPs"');
  declare('set', 'nodeport-ips', 'type ipv4_addr ; comment "IPs that accept NodePort traffic"');
  declare('map', 'service-ips', 'type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"');
  declare('map', 'service-nodeports', 'type inet_proto . inet_service : verdict ; comment "NodePort traffic"');
  declare('map', 'no-endpoint-services', 'type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints"');
  declare('map', 'no-endpoint-nodeports', 'type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints"');
  declare('map', 'firewall-ips', 'type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges"');
  if (cfg.nodePortIPs.length) out.push(`add element ${t} nodeport-ips { ${cfg.nodePortIPs.join(', ')} }`);
  // Other clusters' pods on this host (their own bridges, same pod range) belong to their own proxies.
  const ours = [`iifname ${br}`, `ip saddr != ${cfg.clusterCIDR}`];
  out.push(`add rule ${t} filter-prerouting ct state new jump firewall-check`);
  out.push(`add rule ${t} filter-output ct state new jump firewall-check`);
  out.push(`add rule ${t} firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips`);
  out.push(`add rule ${t} filter-input ct state new jump endpoints-check`);
  for (const m of ours) out.push(`add rule ${t} filter-forward ct state new ${m} jump endpoints-check`);
  // Forwarded traffic was DNATed in prerouting already: anything still bound for the service range is not a Service port.
  for (const m of ours) out.push(`add rule ${t} filter-forward ct state new ${m} jump cluster-ips-check`);
  out.push(`add rule ${t} filter-output ct state new jump endpoints-check`);
  out.push(`add rule ${t} filter-output-post-dnat ct state new jump cluster-ips-check`);
  out.push(`add rule ${t} cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"`);
  // The node-local DNS server holds an address of the range itself: local addresses are not ours to refuse.
  out.push(`add rule ${t} cluster-ips-check ip daddr ${cfg.serviceCIDR} fib daddr type != local reject comment "Reject traffic to unallocated ClusterIPs"`);
  for (const m of ours) out.push(`add rule ${t} nat-prerouting ${m} jump services`);
  out.push(`add rule ${t} nat-output jump services`);
  if (cfg.masqueradeSameBridge) out.push(`add rule ${t} nat-postrouting iifname ${br} oifname ${br} ct status dnat jump mark-for-masquerade`);
  out.push(`add rule ${t} nat-postrouting jump masquerading`);
  out.push(`add rule ${t} services ip daddr . meta l4proto . th dport vmap @service-ips`);
  out.push(`add rule ${t} services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`);
  out.push(`add rule ${t} endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  out.push(`add rule ${t} endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`);
  out.push(`add rule ${t} reject-chain reject`);
  out.push(`add rule ${t} mark-for-masquerade mark set mark or ${masqueradeMark}`);
  out.push(`add rule ${t} masquerading mark and ${masqueradeMark} == 0 return`);
  out.push(`add rule ${t} masquerading mark set mark xor ${masqueradeMark}`);
  out.push(`add rule ${t} masquerading masquerade fully-random`);
  return out;
}

function setLine(t: string, name: string, timeout: number): string {
  return `add set ${t} ${name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ; }`;
}

/**
 * The whole table in one transaction. Without `prev` the table is replaced (first sync,
 * recovery). With `prev` (the last ruleset applied: the periodic resync) every object is
 * rewritten in place and the ones no longer wanted are deleted, so affinity sets keep the
 * clients they remember.
 */
export function renderFull(cfg: RulesetConfig, rs: Ruleset, prev?: Ruleset): string {
  const t = `ip ${cfg.table}`;
  // "add" first so "delete" cannot fail on a missing table; the kernel applies all of it or nothing.
  const out = prev ? skeleton(cfg, true) : [`add table ${t}`, `delete table ${t}`, ...skeleton(cfg, false)];
  for (const [name, timeout] of rs.affinitySets) {
    if (prev?.affinitySets.has(name) && prev.affinitySets.get(name) !== timeout) out.push(`delete set ${t} ${name}`);
    out.push(setLine(t, name, timeout));
  }
  for (const name of rs.chains.keys()) {
    out.push(`add chain ${t} ${name}`);
    if (prev) out.push(`flush chain ${t} ${name}`);
  }
  for (const [name, rules] of rs.chains) for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
  for (const m of mapNames) for (const [k, v] of rs.maps[m]) out.push(elementLine(t, m, k, v));
  if (rs.clusterIPs.size) out.push(`add element ${t} cluster-ips { ${[...rs.clusterIPs].join(', ')} }`);
  if (prev) {
    const stale = [...prev.chains.keys()].filter((n) => !rs.chains.has(n));
    for (const name of stale) out.push(`add chain ${t} ${name}`, `flush chain ${t} ${name}`);
    for (const name of stale) out.push(`delete chain ${t} ${name}`);
    for (const name of prev.affinitySets.keys()) if (!rs.affinitySets.has(name)) out.push(setLine(t, name, prev.affinitySets.get(name)!), `delete set ${t} ${name}`);
  }
  return out.join('\n') + '\n';
}

function elementLine(t: string, map: MapName, key: string, v: MapValue): string {
  return `add element ${t} ${map} { ${key}${v.comment ? ` comment ${quote(v.comment)}` : ''} : ${v.verdict} }`;
}

function sameValue(a: MapValue | undefined, b: MapValue | undefined): boolean {
  if (a === b) return !!a;
  return !!a && !!b && a.verdict === b.verdict && a.comment === b.comment;
}

function sameRules(a: string[] | undefined, b: string[] | undefined): boolean {
  if (a === b) return !!a;
  return !!a && !!b && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * Only the differences from `prev` (the last ruleset applied): new chains and sets first,
 * stale map elements out, changed chains flushed and refilled, new elements in, and chains
 * and sets no longer referenced flushed and deleted last. Empty when nothing changed.
 */
export function renderChanges(cfg: RulesetConfig, prev: Ruleset, next: Ruleset): string {
  const t = `ip ${cfg.table}`;
  const out: string[] = [];
  for (const [name, timeout] of next.affinitySets) {
    const old = prev.affinitySets.get(name);
    if (old === undefined) out.push(setLine(t, name, timeout));
    else if (old !== timeout) out.push(`delete set ${t} ${name}`, setLine(t, name, timeout));
  }
  for (const name of next.chains.keys()) if (!prev.chains.has(name)) out.push(`add chain ${t} ${name}`);
  for (const m of mapNames) {
    for (const [k, v] of prev.maps[m]) if (!sameValue(next.maps[m].get(k), v)) out.push(`delete element ${t} ${m} { ${k} }`);
  }
  for (const [name, rules] of next.chains) {
    const old = prev.chains.get(name);
    if (sameRules(old, rules)) continue;
    if (old) out.push(`flush chain ${t} ${name}`);
    for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
  }
  for (const m of mapNames) {
    for (const [k, v] of next.maps[m]) if (!sameValue(prev.maps[m].get(k), v)) out.push(elementLine(t, m, k, v));
  }
  const goneIPs = [...prev.clusterIPs].filter((ip) => !next.clusterIPs.has(ip));
  const newIPs = [...next.clusterIPs].filter((ip) => !prev.clusterIPs.has(ip));
  if (goneIPs.length) out.push(`delete element ${t} cluster-ips { ${goneIPs.join(', ')} }`);
  if (newIPs.length) out.push(`add element ${t} cluster-ips { ${newIPs.join(', ')} }`);
  const stale = [...prev.chains.keys()].filter((n) => !next.chains.has(n));
  for (const name of stale) out.push(`flush chain ${t} ${name}`);
  for (const name of stale) out.push(`delete chain ${t} ${name}`);
  for (const name of prev.affinitySets.keys()) if (!next.affinitySets.has(name)) out.push(`delete set ${t} ${name}`);
  return out.length ? out.join('\n') + '\n' : '';
}

/** An empty ruleset (before the first sync). */
export function emptyRuleset(): Ruleset {
  return {
    chains: new Map(),
    affinitySets: new Map(),
    maps: { 'service-ips': new Map(), 'service-nodeports': new Map(), 'no-endpoint-services': new Map(), 'no-endpoint-nodeports': new Map(), 'firewall-ips': new Map() },
    clusterIPs: new Set(),
  };
}

/** How many chains a change touches (for logs and the partial-sync metric). */
export function changedChains(prev: Ruleset, next: Ruleset): number {
  let n = 0;
  for (const [name, rules] of next.chains) if (!sameRules(prev.chains.get(name), rules)) n++;
  for (const name of prev.chains.keys()) if (!next.chains.has(name)) n++;
  return n;
}
