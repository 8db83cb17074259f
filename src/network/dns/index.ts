/** @module Cluster DNS (CoreDNS's kubernetes plugin) served on the node at the cluster DNS address. */
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';

export async function startClusterDNS(_opts: NodeNetworkOptions): Promise<NodeNetwork> {
  return { async stop() {} };
}
