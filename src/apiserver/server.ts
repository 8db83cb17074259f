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

export const skiffVersion: VersionInfo = { major: '1', minor: '32', gitVersion: 'v1.32.0-skiff' };

export interface ServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Store endpoint; default sqlite in the data dir. */
  storeEndpoint?: string;
  /** How long Events are kept after their last activity (kube-apiserver --event-ttl, 1 h). */
  eventTtlSeconds?: number;
  clock?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
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
    ensurePki(opts.dataDir),
  ]);
  const registry = new ResourceRegistry(allResources);
  const rest = new RestStorage(store, registry, clock);
  rest.unknownFields = unknownFieldChecker();
  let ready = false;
  const metrics = new ApiServerMetrics();
  const subresourceHandlers = podSubresourceHandlers(rest, clock);
  const upgradeHandlers = new Map<string, UpgradeHandler>();
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
    if (!('user' in authn) && !('anonymous' in authn && isPublicPath(path))) {
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
  const url = `https://127.0.0.1:${port}`;
  await bootstrap(rest, registry, port);
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig.yaml');
  await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
  const stopEventTtl = startEventTtl(rest, registry.lookup('', 'v1', 'events')!, (opts.eventTtlSeconds ?? 3600) * 1000, clock);
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
    async close() {
      ready = false;
      stopEventTtl();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await store.close();
    },
  };
}

const systemContext = (): WriteContext => ({ dryRun: false, fieldManager: 'skiff-apiserver', fieldValidation: 'Ignore', warnings: [] });

async function ensureObject(rest: RestStorage, def: ResourceDef | undefined, obj: KObject): Promise<void> {
  if (!def) return;
  try {
    await rest.create(def, obj.metadata?.namespace, obj, systemContext());
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
  }
}

/** The objects every cluster starts with (kube-apiserver's bootstrap controllers). */
async function bootstrap(rest: RestStorage, registry: ResourceRegistry, port: number): Promise<void> {
  const nsDef = registry.lookup('', 'v1', 'namespaces');
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    await ensureObject(rest, nsDef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  await ensureObject(rest, registry.lookup('', 'v1', 'services'), {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.43.0.1', clusterIPs: ['10.43.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  });
}
