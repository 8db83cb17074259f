/**
 * @module A pod's DNS configuration as kubelet computes it (pkg/kubelet/network/dns):
 * dnsPolicy ClusterFirst points at the cluster DNS with the namespace search path and
 * ndots:5, Default (and ClusterFirst on the host network) takes the node's resolv.conf, None
 * only spec.dnsConfig, which is merged on top in every case; then kubelet's limits apply.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface PodDNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface PodDNSInput {
  namespace: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: Array<{ name: string; value?: string }> };
}

export interface NodeDNSSettings {
  /** kubelet --cluster-dns. Empty: ClusterFirst falls back to Default, as kubelet does. */
  clusterDNS: string[];
  /** kubelet --cluster-domain. */
  clusterDomain: string;
  /** The node's resolv.conf text (kubelet --resolv-conf). */
  hostResolvConf: string;
}

/** kubelet's validation limits (validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars). */
const maxNameservers = 3;
const maxSearchPaths = 32;
const maxSearchChars = 2048;

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** nameserver/search/options lines of a resolv.conf (the last search line wins, as in glibc). */
export function parseResolvConf(text: string): PodDNSConfig {
  const out: PodDNSConfig = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [k, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (k === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (k === 'search') out.searches = rest.filter((s) => s && s !== '.');
    else if (k === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

/**
 * The node's resolver file: with systemd-resolved's loopback stub in /etc/resolv.conf the
 * upstream list behind it, which pods in their own network namespace can reach (k3s's choice).
 */
export function hostResolvConfText(): string {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const etc = read('/etc/resolv.conf');
  const servers = parseResolvConf(etc).servers;
  const stub = '/run/systemd/resolve/resolv.conf';
  if (servers.length > 0 && servers.every((s) => s.startsWith('127.') || s === '::1') && existsSync(stub)) return read(stub);
  return etc;
}

/** mergeDNSOptions: a dnsConfig option replaces a node option of the same name. */
function mergeOptions(base: string[], extra: Array<{ name: string; value?: string }>): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0], o);
  for (const o of extra) if (o?.name) byName.set(o.name, o.value !== undefined && o.value !== null ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/** GetPodDNS + formDNSConfigFitsLimits. */
export function podDNSConfig(pod: PodDNSInput, node: NodeDNSSettings): PodDNSConfig {
  const policy = pod.dnsPolicy || 'ClusterFirst';
  const host = parseResolvConf(node.hostResolvConf);
  let cfg: PodDNSConfig;
  const cluster = (policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.hostNetwork)) && node.clusterDNS.length > 0;
  if (policy === 'None') cfg = { servers: [], searches: [], options: [] };
  else if (cluster) {
    const d = node.clusterDomain;
    cfg = {
      servers: [...node.clusterDNS],
      searches: unique([`${pod.namespace}.svc.${d}`, `svc.${d}`, d, ...host.searches]),
      options: ['ndots:5'],
    };
  } else cfg = host;
  const extra = pod.dnsConfig;
  if (extra) {
    cfg = {
      servers: unique([...cfg.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...cfg.searches, ...(extra.searches ?? [])]),
      options: mergeOptions(cfg.options, extra.options ?? []),
    };
  }
  cfg.servers = cfg.servers.slice(0, maxNameservers);
  let searches = cfg.searches.slice(0, maxSearchPaths);
  while (searches.length > 0 && searches.join(' ').length > maxSearchChars) searches = searches.slice(0, -1);
  cfg.searches = searches;
  return cfg;
}

/** The resolv.conf a container sees. */
export function formatResolvConf(cfg: PodDNSConfig): string {
  const lines: string[] = [];
  if (cfg.searches.length) lines.push(`search ${cfg.searches.join(' ')}`);
  for (const s of cfg.servers) lines.push(`nameserver ${s}`);
  if (cfg.options.length) lines.push(`options ${cfg.options.join(' ')}`);
  return lines.join('\n') + '\n';
}
