/**
 * @module The node's share of cluster networking, started beside each node agent (the roles of
 * kube-proxy, CoreDNS/NodeLocal DNS and flannel's host-gw backend): the service proxy, the
 * cluster DNS server and routes to other nodes' pod CIDRs. Reads API objects through the
 * client only.
 */
import type { Registry } from 'prom-client';
import type { Client, InformerFactory } from '../client/index.js';
import { startClusterDNS } from './dns/index.js';
import { startServiceProxy } from './proxy/index.js';
import { startPodRoutes } from './routes/index.js';

export type Logger = (msg: Record<string, unknown>) => void;

export interface NodeNetworkOptions {
  client: Client;
  /** Shared informers (started by the caller, or started here when `startInformers`). */
  informers: InformerFactory;
  nodeName: string;
  /** This node's pod CIDR (10.42.0.0/24). */
  podCIDR: string;
  /** The node's InternalIP. */
  nodeIP: string;
  /** The Linux bridge the node's pods are plugged into (skiff0). */
  bridge: string;
  /** All pods of the cluster (10.42.0.0/16). */
  clusterCIDR: string;
  /** Service ClusterIPs (10.43.0.0/16). */
  serviceCIDR: string;
  /** The cluster DNS address written into pods' resolv.conf (10.43.0.10). */
  clusterDNS: string;
  clusterDomain: string;
  /** Root on Linux: kernel data paths (nftables, routes, addresses); otherwise userspace fallbacks. */
  privileged: boolean;
  signal: AbortSignal;
  log: Logger;
  /** Where components export their metrics (the API server's /metrics registry), when given. */
  metrics?: Registry;
}

export interface NodeNetwork {
  stop(): Promise<void>;
}

export async function startNodeNetwork(opts: NodeNetworkOptions): Promise<NodeNetwork> {
  const parts: NodeNetwork[] = [];
  try {
    parts.push(await startPodRoutes(opts));
    parts.push(await startClusterDNS(opts));
    parts.push(await startServiceProxy(opts));
  } catch (err) {
    for (const p of parts.reverse()) await p.stop().catch(() => {});
    throw err;
  }
  return {
    async stop() {
      for (const p of parts.reverse()) await p.stop().catch((err: unknown) => opts.log({ level: 'warn', msg: 'network component stop failed', error: String(err) }));
    },
  };
}
