/**
 * @module kube-apiserver assembled: store, PKI, resource registry, REST storage and the
 * HTTPS listener with authentication; bootstraps the objects a fresh cluster has
 * (default, kube-system, kube-public, kube-node-lease namespaces, the `kubernetes`
 * Service) and writes the admin kubeconfig.
 */
import { mkdirSync } from 'node:fs';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApiError } from '../api/errors.js';
import { allResources } from '../api/kinds/index.js';
import type { KObject, ResourceDef } from '../api/types.js';
import { openStore, type Store } from '../storage/store.js';
import '../storage/sqlite/index.js';
import { ApiHandler, type SubresourceHandler, type UpgradeHandler, type VersionInfo, writeJson, writeRawStatus } from './handler.js';
import { authenticateRequest, ensurePki, httpsServerOptions, isPublicPath, writeKubeconfig, type Pki } from './pki/index.js';
import { ResourceRegistry } from './registry.js';
import { RestStorage, type WriteContext } from './rest.js';
import { openApiRoutes, unknownFieldChecker } from './openapi-routes.js';
import { podSubresourceHandlers } from './pod-subresources.js';
import { startEventTtl } from './event-ttl.js';
import { ApiServerMetrics } from './metrics.js';
import { MetricsApi, metricsApiResources } from './metrics-api.js';
import { prometheusSdRoute } from './prometheus-sd.js';
import { ServiceAllocator } from './service-alloc.js';
import { defaultClassRules, installDefaultClassAdmission } from './default-class.js';
import { configureServiceNetwork } from '../api/kinds/service.js';
import { isJoinPublicPath, joinRoutes, storedNodePasswords, writeJoinToken } from './join.js';

export const skiffVersion: VersionInfo = { major: '1', minor: '32', gitVersion: 'v1.32.0+skiff' };

export interface ServerOptions {
  dataDir: string;
  /** How often metrics.k8s.io scrapes the kubelets (metrics-server --metric-resolution, 15 s). */
  metricResolutionMs?: number;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Store endpoint; default sqlite in the data dir. */
  storeEndpoint?: string;
  /** How long Events are kept after their last activity (kube-apiserver --event-ttl, 1 h). */
  eventTtlSeconds?: number;
  clock?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
  /** --service-cluster-ip-range (k3s --service-cidr), default 10.43.0.0/16. */
  serviceCIDR?: string;
  /** --service-node-port-range, default 30000-32767. */
  nodePortRange?: { base: number; size: number };
  /** The kube-dns Service's ClusterIP (k3s --cluster-dns), default the range's 10th address. */
  clusterDNS?: string;
  /** Extra names and addresses of the serving certificate (k3s --tls-san); the bind address is added. */
  tlsSans?: string[];
}

export interface RunningServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  pki: Pki;
  store: Store;
  rest: RestStorage;
  registry: ResourceRegistry;
  /** Prometheus registry served at /metrics; other components of the process add theirs. */
  metrics: ApiServerMetrics;
  /** Subresource handlers ("<group>/<plural>/<subresource>"); components may add theirs (pods/log). */
  subresourceHandlers: Map<string, SubresourceHandler>;
  /** Upgrade handlers for streaming subresources (pods/exec, attach, portforward), same keys. */
  upgradeHandlers: Map<string, UpgradeHandler>;
  /** metrics.k8s.io (the metrics-server role): NodeMetrics and PodMetrics from kubelet scrapes. */
  metricsApi: MetricsApi;
  close(): Promise<void>;
}

/** Structured log line on stderr with a component field. */
export function jsonLogger(component: string): (msg: Record<string, unknown>) => void {
  return (msg) => process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), component, ...msg })}\n`);
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? jsonLogger('apiserver');
  mkdirSync(opts.dataDir, { recursive: true });
  const [store, pki] = await Promise.all([
    openStore(opts.storeEndpoint ?? `sqlite://${join(opts.dataDir, 'state.db')}`),
    ensurePki(opts.dataDir, { hostnames: [...(opts.tlsSans ?? []), ...(opts.host && !isWildcard(opts.host) ? [opts.host] : [])] }),
  ]);
  writeJoinToken(opts.dataDir, pki);
  const registry = new ResourceRegistry([...allResources, ...metricsApiResources]);
  const rest = new RestStorage(store, registry, clock);
  rest.unknownFields = unknownFieldChecker();
  if (opts.nodePortRange) configureServiceNetwork({ nodePortRange: opts.nodePortRange });
  const serviceAlloc = new ServiceAllocator({ serviceCIDR: opts.serviceCIDR ?? '10.43.0.0/16', nodePortRange: opts.nodePortRange, log });
  const servicesDef = registry.lookup('', 'v1', 'services')!;
  serviceAlloc.rebuild((await rest.list(servicesDef, undefined, {})).items as KObject[]);
  rest.hooks.set(servicesDef, serviceAlloc.hooks());
  // Admission: Ingresses and claims without a class get the cluster's default one.
  for (const rule of defaultClassRules((g, v, r) => registry.lookup(g, v, r)))
    installDefaultClassAdmission(rest, rule, (await rest.list(rule.classDef, undefined, {})).items as KObject[]);
  let ready = false;
  const metrics = new ApiServerMetrics();
  const subresourceHandlers = podSubresourceHandlers(rest, clock);
  const upgradeHandlers = new Map<string, UpgradeHandler>();
  const metricsApi = new MetricsApi({ rest, registry, pki, resolutionMs: opts.metricResolutionMs, log: jsonLogger('metrics-server') });
  const handler = new ApiHandler({
    metrics,
    registry,
    rest,
    version: skiffVersion,
    clock,
    isReady: () => ready,
    log,
    extraRoutes: [
      openApiRoutes(allResources, skiffVersion.gitVersion),
      metricsApi.route,
      prometheusSdRoute(rest, registry),
      joinRoutes(pki, log, storedNodePasswords(rest, registry)),
      (req, res, url) => {
        if (url.pathname !== '/metrics' || req.method !== 'GET') return false;
        void metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        });
        return true;
      },
    ],
    subresourceHandlers,
    upgradeHandlers,
  });
  // HTTP/2 as kube-apiserver serves it (kubectl and client-go negotiate h2; it costs about
  // a third less CPU per request than HTTP/1.1 here), HTTP/1.1 for clients that ask for it
  // and for the upgrades of exec/attach/port-forward. The compatibility API keeps one
  // (req, res) handler for both.
  const server: Http2SecureServer = createSecureServer({ ...httpsServerOptions(pki), allowHTTP1: true }, (h2req, h2res) => {
    const req = h2req as unknown as IncomingMessage;
    const res = h2res as unknown as ServerResponse;
    const path = (req.url ?? '/').split('?')[0];
    const authn = authenticateRequest(h2req, pki);
    if (!('user' in authn) && !('anonymous' in authn && (isPublicPath(path) || isJoinPublicPath(path)))) {
      writeJson(res, 401, ApiError.unauthorized().toStatus());
      return;
    }
    void handler.handle(req, res);
  });
  // HTTP/1.1 upgrades (WebSocket, SPDY/3.1) for exec, attach and port-forward; anything else
  // that asks to upgrade is served as the ordinary request it also is.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const authn = authenticateRequest(req, pki);
    const user = 'user' in authn;
    if (!user && !('anonymous' in authn && isPublicPath((req.url ?? '/').split('?')[0]))) {
      writeRawStatus(socket, 401, ApiError.unauthorized().toStatus());
      return;
    }
    void (user ? handler.handleUpgrade(req, socket, head) : Promise.resolve(false)).then((handled) => {
      if (handled) return;
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      res.once('finish', () => socket.end());
      void handler.handle(req, res);
    });
  });
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // A server bound to one address is reachable only there; a wildcard one also on loopback.
  const urlHost = opts.host && !isWildcard(opts.host) ? (opts.host.includes(':') ? `[${opts.host}]` : opts.host) : '127.0.0.1';
  const url = `https://${urlHost}:${port}`;
  await bootstrap(rest, registry, port, { kubernetesIP: serviceAlloc.ipAt(1), clusterDNS: opts.clusterDNS ?? serviceAlloc.ipAt(10) }, log);
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
  const stopEventTtl = startEventTtl(rest, registry.lookup('', 'v1', 'events')!, (opts.eventTtlSeconds ?? 3600) * 1000, clock);
  metricsApi.start();
  ready = true;
  log({ level: 'info', msg: 'ready', url });
  return {
    url,
    port,
    kubeconfigPath,
    pki,
    store,
    rest,
    registry,
    metrics,
    subresourceHandlers,
    upgradeHandlers,
    metricsApi,
    async close() {
      ready = false;
      metricsApi.stop();
      stopEventTtl();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await store.close();
    },
  };
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

const systemContext = (): WriteContext => ({ dryRun: false, fieldManager: 'skiff-apiserver', fieldValidation: 'Ignore', warnings: [] });

async function ensureObject(rest: RestStorage, def: ResourceDef | undefined, obj: KObject): Promise<void> {
  if (!def) return;
  // An existing object wins: creating it again would run the Service allocators, which
  // refuse its (taken) ClusterIP before the store reports AlreadyExists.
  const found = await rest.get(def, obj.metadata?.namespace, obj.metadata!.name!).catch((e: unknown) => {
    if (e instanceof ApiError && e.code === 404) return undefined;
    throw e;
  });
  if (found) return;
  try {
    await rest.create(def, obj.metadata?.namespace, obj, systemContext());
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
  }
}

/** The objects every cluster starts with (kube-apiserver's bootstrap controllers). */
async function bootstrap(
  rest: RestStorage,
  registry: ResourceRegistry,
  port: number,
  ips: { kubernetesIP: string; clusterDNS: string },
  log: (msg: Record<string, unknown>) => void,
): Promise<void> {
  const nsDef = registry.lookup('', 'v1', 'namespaces');
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    await ensureObject(rest, nsDef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  await ensureObject(rest, registry.lookup('', 'v1', 'services'), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: ips.kubernetesIP, clusterIPs: [ips.kubernetesIP], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  });
  // k3s's CoreDNS Service; skiff answers it with a DNS server on every node, so the service
  // proxy leaves it alone (skiff.dev/node-local).
  await ensureObject(rest, registry.lookup('', 'v1', 'services'), kubeDnsService(ips.clusterDNS)).catch((err: unknown) =>
    log({ level: 'warn', msg: 'kube-dns Service not created', clusterDNS: ips.clusterDNS, error: err instanceof Error ? err.message : String(err) }),
  );
}

/** kube-system/kube-dns as k3s's coredns manifest declares it. */
export function kubeDnsService(clusterIP: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true', 'skiff.dev/node-local': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      selector: { 'k8s-app': 'kube-dns' },
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
      sessionAffinity: 'None',
    },
  };
}
