/** @module Routes to other nodes' pod CIDRs through their InternalIPs (flannel's host-gw backend). */
import { Resources } from '../../client/index.js';
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';
import { enableIpForwarding, PodRouter } from './routes.js';

export { desiredPodRoutes, enableIpForwarding, PodRouter, runIp, type IpRunner, type PodRoute, type PodRouterOptions } from './routes.js';

export async function startPodRoutes(opts: NodeNetworkOptions): Promise<NodeNetwork> {
  if (!opts.privileged || process.platform !== 'linux') {
    opts.log({ level: 'info', msg: 'no routes to other nodes\' pods: routing needs root on Linux' });
    return { async stop() {} };
  }
  try {
    if (await enableIpForwarding()) opts.log({ level: 'info', msg: 'enabled IPv4 forwarding (net.ipv4.ip_forward=1)' });
  } catch (err) {
    opts.log({ level: 'warn', msg: 'cannot enable IPv4 forwarding: pods will not reach other nodes', error: String(err) });
  }
  const router = new PodRouter({ nodes: opts.informers.for(Resources.nodes), nodeName: opts.nodeName, nodeIP: opts.nodeIP, clusterCIDR: opts.clusterCIDR, log: opts.log });
  await router.reconcile();
  return { stop: () => router.stop() };
}
