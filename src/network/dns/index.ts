/**
 * @module Cluster DNS (the role of CoreDNS's kubernetes plugin, served node-locally like
 * NodeLocal DNSCache): a DNS server on every node at the cluster DNS address, answering the
 * cluster zone from Services, EndpointSlices (and Pods, in verified mode) kept by informers,
 * and forwarding other names to the host's resolvers. Privileged, it puts the address on a
 * dummy interface and listens on port 53 there; otherwise it listens on loopback.
 */
import { Resources } from '../../client/index.js';
import type { KObject } from '../../api/types.js';
import type { NodeNetwork, NodeNetworkOptions } from '../index.js';
import { Forwarder, hostUpstreams, type Upstream } from './forward.js';
import { addNodeLocalAddress, type NodeLocalAddress } from './iface.js';
import { DnsIndex, type PodsMode } from './records.js';
import { dnsMetrics, serveMetrics } from './metrics.js';
import { DnsServer } from './server.js';

export { DnsIndex, reverseName, recordTTL, type PodsMode, type LookupResult } from './records.js';
export { DnsServer } from './server.js';
export { Forwarder, upstreamsFromResolvConf, hostUpstreams, type Upstream } from './forward.js';

/** The dummy interface that carries the cluster DNS address on a node. */
export const dnsInterfaceName = 'skiff-dns';

export interface ClusterDNSOptions {
  /** Where to listen. Default: privileged, the cluster DNS address port 53; otherwise 127.0.0.1 on a free port. */
  listen?: { host: string; port: number };
  /** Resolvers for names outside the zone (default: the host's /etc/resolv.conf). */
  upstreams?: Upstream[];
  /** Dummy interface for the address (default skiff-dns). */
  interfaceName?: string;
  /** Pod A records (CoreDNS `pods`; k3s runs insecure). */
  pods?: PodsMode;
  /** Upstream timeout per try (default 2 s). */
  upstreamTimeoutMs?: number;
  /** Milliseconds since the epoch, for the upstream answer cache (tests move it). */
  now?: () => number;
  /** Port of the metrics endpoint on the listening address (default: 9153 when privileged, none otherwise; 0 picks one). */
  metricsPort?: number;
}

export interface ClusterDNS extends NodeNetwork {
  index: DnsIndex;
  server: DnsServer;
  /** Where it answers; port 0 when it could not listen. */
  host: string;
  port: number;
  /** Where /metrics is served (0: not served). */
  metricsPort: number;
}

export async function startClusterDNS(opts: NodeNetworkOptions & { dns?: ClusterDNSOptions }): Promise<ClusterDNS> {
  const dnsOpts = opts.dns ?? {};
  const log = opts.log;
  const index = new DnsIndex(opts.clusterDomain, opts.clusterDNS, dnsOpts.pods ?? 'insecure');
  let stopped = false;
  const guard =
    <A extends unknown[]>(fn: (...a: A) => void) =>
    (...a: A) => {
      if (!stopped) fn(...a);
    };
  const services = opts.informers.for(Resources.services);
  services.addEventHandlers({
    add: guard((o: KObject) => index.upsertService(o)),
    update: guard((_old: KObject, o: KObject) => index.upsertService(o)),
    delete: guard((o: KObject) => index.deleteService(o)),
  });
  const slices = opts.informers.for(Resources.endpointslices);
  slices.addEventHandlers({
    add: guard((o: KObject) => index.upsertSlice(o)),
    update: guard((_old: KObject, o: KObject) => index.upsertSlice(o)),
    delete: guard((o: KObject) => index.deleteSlice(o)),
  });
  if (dnsOpts.pods === 'verified') {
    opts.informers.for(Resources.pods).addEventHandlers({
      add: guard((o: KObject) => index.upsertPod(o)),
      update: guard((old: KObject, o: KObject) => index.upsertPod(o, old)),
      delete: guard((o: KObject) => index.deletePod(o)),
    });
  }

  const upstreams = dnsOpts.upstreams ?? hostUpstreams([opts.clusterDNS]);
  const forwarder = new Forwarder(upstreams, dnsOpts.upstreamTimeoutMs);
  const privileged = opts.privileged && !dnsOpts.listen;
  const host = dnsOpts.listen?.host ?? (privileged ? opts.clusterDNS : '127.0.0.1');
  const requestedPort = dnsOpts.listen?.port ?? (privileged ? 53 : 0);
  const metrics = dnsMetrics(`dns://${host}:${requestedPort}`, opts.metrics);
  const server = new DnsServer({ index, forwarder, log, observe: metrics.observe, now: dnsOpts.now });
  let port = 0;
  let metricsPort = 0;
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  let address: (NodeLocalAddress & { device: string }) | undefined;
  try {
    if (privileged) address = await addNodeLocalAddress(dnsOpts.interfaceName ?? dnsInterfaceName, opts.clusterDNS);
    port = await server.listen(host, requestedPort);
    address?.claim();
    const wantedMetricsPort = dnsOpts.metricsPort ?? (privileged ? 9153 : undefined);
    if (wantedMetricsPort !== undefined) {
      metricsServer = await serveMetrics(metrics.registry, host, wantedMetricsPort).catch((err: unknown) => {
        log({ level: 'warn', msg: 'cluster DNS metrics not served', address: `${host}:${wantedMetricsPort}`, error: String(err) });
        return undefined;
      });
      const addr = metricsServer?.address();
      metricsPort = addr && typeof addr === 'object' ? addr.port : 0;
    }
    log({ level: 'info', msg: 'cluster DNS listening', address: `${host}:${port}`, device: address?.device, zone: index.zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) });
  } catch (err) {
    // Pods still start without it; their lookups fail until the address is free.
    log({ level: 'error', msg: 'cluster DNS cannot listen', address: `${host}:${dnsOpts.listen?.port ?? 53}`, error: err instanceof Error ? err.message : String(err) });
    await address?.remove().catch(() => {});
    address = undefined;
  }
  return {
    index,
    server,
    host,
    port,
    metricsPort,
    async stop() {
      stopped = true;
      if (metricsServer) {
        const closed = new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
        metricsServer.closeAllConnections();
        await closed;
      }
      await server.close();
      forwarder.close();
      await address?.remove();
    },
  };
}
