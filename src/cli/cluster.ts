/**
 * @module The composition root of `skiff server`: the API server, then — talking to it only
 * through loopback clients — the controller manager, the scheduler and the local nodes.
 * The only module that sees every layer.
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { startServer, jsonLogger, type RunningServer } from '../apiserver/server.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { issueKubeletTls, registerPodStreaming } from '../apiserver/pod-streaming.js';
import { EventRecorder, InformerFactory } from '../client/index.js';
import { controllerFactories } from '../controllers/index.js';
import { defaultControllerOptions, type ControllerContext, type ControllerOptions } from '../controllers/types.js';
import { startHollowNodes, type HollowCapacity, type HollowNodesOptions } from '../kubelet/hollow/index.js';
import { startLocalNode, type LocalNodeOptions } from '../kubelet/local-node.js';
import { startIngressController } from '../ingress/index.js';
import { startNodeNetwork, type NodeNetworkOptions } from '../network/index.js';
import { startScheduler, type RunningScheduler } from '../scheduler/index.js';
import { registerComponentMetrics } from './metrics.js';

export interface ClusterOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** Controllers to run ('*' = all); empty list runs none. */
  controllers?: string[];
  controllerOptions?: Partial<ControllerOptions>;
  /** Run kube-scheduler (default true). */
  scheduler?: boolean;
  /** Simulated nodes (kwok's role) in this process. */
  hollowNodes?: {
    count: number;
    capacity?: HollowCapacity;
    podStartupMs?: number;
    /** Passed through to startHollowNodes (the scheduling benchmark turns pod events off: scheduler_perf runs no kubelets). */
    options?: Partial<Pick<HollowNodesOptions, 'recordPodEvents' | 'reportPendingStatus' | 'recordNodeEvents' | 'maxInFlight'>>;
  };
  /** This machine as a node running pods as processes (`--runtime process`); absent: no local node. */
  localNode?: Partial<Pick<LocalNodeOptions, 'nodeName' | 'podCIDR' | 'internalIP' | 'restartBackoff' | 'runtime' | 'streaming'>>;
  /** Events older than this are deleted (kube-apiserver --event-ttl). */
  eventTtlSeconds?: number;
  /** How often metrics.k8s.io scrapes kubelets (metrics-server --metric-resolution). */
  metricResolutionMs?: number;
  /** Cluster networking of the local node (service proxy, DNS, routes); defaults are k3s's. */
  network?: Partial<Pick<NodeNetworkOptions, 'clusterCIDR' | 'serviceCIDR' | 'clusterDNS' | 'clusterDomain'>>;
  /** --service-node-port-range (default 30000-32767). */
  nodePortRange?: { base: number; size: number };
  /** Extra names and addresses of the API server's certificate (k3s --tls-san). */
  tlsSans?: string[];
  /** Run the ingress controller with the local node (default true; k3s: --disable traefik). */
  ingress?: boolean;
  /** Its HTTP and HTTPS ports on the node's address (default 80 and 443; 0 picks free ones). */
  ingressPorts?: { http?: number; https?: number };
}

export const defaultNetwork = { clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', clusterDNS: '10.43.0.10', clusterDomain: 'cluster.local' } as const;


export interface RunningCluster {
  server: RunningServer;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const server = await startServer({
    dataDir: opts.dataDir,
    port: opts.port,
    host: opts.host,
    eventTtlSeconds: opts.eventTtlSeconds,
    tlsSans: opts.tlsSans,
    metricResolutionMs: opts.metricResolutionMs,
    serviceCIDR: opts.network?.serviceCIDR,
    clusterDNS: opts.network?.clusterDNS,
    nodePortRange: opts.nodePortRange,
  });
  // pods/log, exec, attach and portforward are proxied to the node's kubelet, as kube-apiserver does.
  registerPodStreaming(server, { log: jsonLogger('apiserver') });
  const abort = new AbortController();
  // Every controller, informer and node listens on this one signal.
  setMaxListeners(0, abort.signal);
  const stops: Array<() => Promise<void> | void> = [];

  const client = new LoopbackClient(server.rest, 'kube-controller-manager');
  const informers = new InformerFactory(client, jsonLogger('informers'));
  const ctx: ControllerContext = {
    client,
    informers,
    now: () => new Date(),
    recorder: (component) => new EventRecorder(client, { component, log: jsonLogger(component) }),
    log: jsonLogger('controller-manager'),
    // The HPA reads metrics.k8s.io from the API server's own metrics API (metrics-server's role).
    listPodMetrics: (namespace, labelSelector) => server.metricsApi.listPodMetrics(namespace, { labelSelector }),
    options: {
      ...defaultControllerOptions,
      // Node IPAM hands out blocks of the cluster CIDR, never the local node's own.
      clusterCIDR: opts.network?.clusterCIDR ?? defaultNetwork.clusterCIDR,
      ...(opts.localNode ? { reservedPodCIDRs: opts.localNode.podCIDR ?? '10.42.0.0/24' } : {}),
      // k3s keeps local-path volumes in <data-dir>/storage.
      localPathStorageDir: join(opts.dataDir, 'storage'),
      ...(opts.controllerOptions ?? {}),
    } as ControllerOptions,
  };
  const wanted = opts.controllers ?? ['*'];
  for (const [name, factory] of Object.entries(controllerFactories)) {
    if (!wanted.includes('*') && !wanted.includes(name)) continue;
    const controller = factory(ctx);
    void controller.run(abort.signal, 2).catch((err) => ctx.log({ level: 'error', msg: 'controller stopped', controller: name, error: String(err) }));
  }
  informers.start(abort.signal);

  let scheduler: RunningScheduler | undefined;
  if (opts.scheduler !== false) {
    const schedulerClient = new LoopbackClient(server.rest, 'default-scheduler');
    scheduler = startScheduler({
      client: schedulerClient,
      informers,
      signal: abort.signal,
      log: jsonLogger('scheduler'),
      recorder: new EventRecorder(schedulerClient, { component: 'default-scheduler', log: jsonLogger('scheduler') }),
    });
    const running = scheduler;
    stops.push(() => running.stop());
  }
  registerComponentMetrics(server.metrics.registry, scheduler);
  if (opts.hollowNodes && opts.hollowNodes.count > 0) {
    const kubeletClient = new LoopbackClient(server.rest, 'kubelet');
    // Heartbeats must come well inside the node controller's grace period (kubelet: 10 s of 40 s).
    const grace = ctx.options.nodeMonitorGracePeriodSeconds;
    const nodes = await startHollowNodes({
      client: kubeletClient,
      count: opts.hollowNodes.count,
      capacity: opts.hollowNodes.capacity,
      podStartupMs: opts.hollowNodes.podStartupMs,
      signal: abort.signal,
      log: jsonLogger('kubelet'),
      informers,
      // Hollow pods' volumes are materialized under <dataDir>/hollow-kubelet.
      dataDir: opts.dataDir,
      // One kubelet streaming server for every hollow node: logs, exec (as host processes) and port-forward to 127.0.0.1.
      streaming: { tls: await issueKubeletTls(server.pki, { ips: ['127.0.0.1'] }, 'hollow-kubelet') },
      heartbeatIntervalMs: Math.min(10_000, Math.floor((grace * 1000) / 4)),
      ...(opts.hollowNodes.options ?? {}),
    });
    stops.push(() => nodes.stop());
  }

  if (opts.localNode) {
    const grace = ctx.options.nodeMonitorGracePeriodSeconds;
    const node = await startLocalNode({
      // The node's kubelet streaming server (logs, exec, attach, port-forward) on its InternalIP.
      streaming: { tls: await issueKubeletTls(server.pki, { ips: [...new Set(['127.0.0.1', opts.localNode.internalIP ?? '127.0.0.1'])] }, 'kubelet') },
      ...opts.localNode,
      // kubelet's --cluster-dns and --cluster-domain: pods' resolv.conf.
      runtime: { clusterDNS: [opts.network?.clusterDNS ?? defaultNetwork.clusterDNS], clusterDomain: opts.network?.clusterDomain ?? defaultNetwork.clusterDomain, ...opts.localNode.runtime },
      client: new LoopbackClient(server.rest, 'kubelet'),
      dataDir: opts.dataDir,
      signal: abort.signal,
      log: jsonLogger('kubelet'),
      informers,
      heartbeatIntervalMs: Math.min(10_000, Math.floor((grace * 1000) / 4)),
    });
    stops.push(() => node.stop());
    const network = await startNodeNetwork({
      ...defaultNetwork,
      ...(opts.network ?? {}),
      client: new LoopbackClient(server.rest, 'kube-proxy'),
      informers,
      nodeName: node.nodeName,
      podCIDR: node.podCIDR,
      nodeIP: node.internalIP,
      bridge: node.runtime.bridge,
      privileged: node.runtime.capabilities().warnings.length === 0,
      signal: abort.signal,
      log: jsonLogger('network'),
      // kube-proxy's kubeproxy_* sync metrics on the API server's /metrics.
      metrics: server.metrics.registry,
    });
    stops.push(() => network.stop());
    if (opts.ingress !== false) {
      const log = jsonLogger('ingress');
      try {
        const ingress = await startIngressController({
          client: new LoopbackClient(server.rest, 'ingress-controller'),
          informers,
          signal: abort.signal,
          log,
          address: node.internalIP,
          httpPort: opts.ingressPorts?.http,
          httpsPort: opts.ingressPorts?.https,
        });
        stops.push(() => ingress.stop());
      } catch (err) {
        // A busy port 80 on the host costs the cluster its ingress, not the whole server.
        log({ level: 'error', msg: 'ingress controller not started', address: node.internalIP, error: String(err) });
      }
    }
  }

  return {
    server,
    async close() {
      abort.abort();
      for (const stop of stops.reverse()) await stop();
      await server.close();
    },
  };
}
