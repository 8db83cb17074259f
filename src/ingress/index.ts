/**
 * @module The ingress controller `skiff server` runs (k3s ships Traefik in this role): it
 * serves networking.k8s.io/v1 Ingresses of its IngressClass (`skiff`, created as the
 * cluster's default class), proxying HTTP and HTTPS on the node's address to the ready
 * pods behind each backend Service, with TLS from Secrets chosen by SNI. Ingresses,
 * Services, EndpointSlices and Secrets are watched; the routing table is swapped whole on
 * a change, so connections in flight are never dropped. Each served Ingress gets the
 * node's address in status.loadBalancer.
 */
import { createServer as createHttpServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { KObject } from '../api/types.js';
import { EventRecorder, Resources, gvr, type Client, type Informer, type InformerFactory } from '../client/index.js';
import { Backends } from './backends.js';
import { RoutingTable, type Match } from './routes.js';
import { SecretContexts, selfSignedCertificate } from './tls.js';
import { defaultIngressClassAnnotation as defaultClassAnnotation } from '../api/kinds/ingressclass.js';

export const ingressClassName = 'skiff';
export const ingressControllerName = 'skiff.dev/ingress-controller';
const ingressClasses = gvr('networking.k8s.io', 'v1', 'ingressclasses');

export interface IngressControllerOptions {
  client: Client;
  informers: InformerFactory;
  signal: AbortSignal;
  log: (msg: Record<string, unknown>) => void;
  /** The node address the proxy listens on and reports in Ingress status (default 127.0.0.1). */
  address?: string;
  /** HTTP and HTTPS ports (default 80 and 443; 0 picks free ones). */
  httpPort?: number;
  httpsPort?: number;
}

export interface RunningIngressController {
  /** The ports actually listened on. */
  httpPort: number;
  httpsPort: number;
  stop(): Promise<void>;
}

/** Whether this controller serves an Ingress: our class by name, the legacy annotation, or no class while ours is the default. */
function ours(ing: KObject, weAreDefault: boolean): boolean {
  const cls = ing.spec?.ingressClassName ?? ing.metadata?.annotations?.['kubernetes.io/ingress.class'];
  return cls === undefined || cls === null || cls === '' ? weAreDefault : cls === ingressClassName;
}

function sameStatus(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

/** Hop-by-hop headers a proxy does not forward (RFC 9110 §7.6.1). */
const hopByHop = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

export async function startIngressController(opts: IngressControllerOptions): Promise<RunningIngressController> {
  const { client, log } = opts;
  const address = opts.address ?? '127.0.0.1';
  const recorder = new EventRecorder(client, { component: 'ingress-controller', log });
  try {
    await client.create(ingressClasses, undefined, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: ingressClassName, annotations: { [defaultClassAnnotation]: 'true' } },
      spec: { controller: ingressControllerName },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }

  const ingresses: Informer = opts.informers.for(Resources.ingresses);
  const classes: Informer = opts.informers.for(ingressClasses);
  const backends = new Backends(opts.informers.for(Resources.services), opts.informers.for(Resources.endpointslices));
  const secrets: Informer = opts.informers.for(Resources.secrets);
  const contexts = new SecretContexts((key, reason) => log({ level: 'warn', msg: 'cannot use TLS secret', secret: key, reason }));
  const fallbackCert = await selfSignedCertificate('Skiff Ingress Controller Fake Certificate', ['ingress.local']);
  const fallbackContext: SecureContext = createSecureContext(fallbackCert);

  let table = new RoutingTable([]);
  const synced = new Map<string, string>();
  const rebuild = () => {
    const ourClass = classes.get(ingressClassName);
    const weAreDefault = ourClass?.metadata?.annotations?.[defaultClassAnnotation] === 'true';
    const served = ingresses.list().filter((i) => ours(i, weAreDefault) && !i.metadata?.deletionTimestamp);
    table = new RoutingTable(served);
    for (const ing of served) void publish(ing);
  };
  // Ingress status: the node's address, as Traefik/ServiceLB publish theirs; an event once per spec generation.
  const publish = async (ing: KObject) => {
    const key = `${ing.metadata?.namespace}/${ing.metadata?.name}`;
    const want = [{ ip: address }];
    if (synced.get(key) !== String(ing.metadata?.generation)) {
      synced.set(key, String(ing.metadata?.generation));
      recorder.event(ing, 'Normal', 'Sync', 'Scheduled for sync');
    }
    if (sameStatus(ing.status?.loadBalancer?.ingress, want)) return;
    try {
      await client.patch(Resources.ingresses, ing.metadata?.namespace, String(ing.metadata?.name), 'merge', { status: { loadBalancer: { ingress: want } } }, { subresource: 'status' });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) log({ level: 'warn', msg: 'cannot update ingress status', ingress: key, error: String(err) });
    }
  };
  let pending: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (pending) return;
    pending = setTimeout(() => {
      pending = undefined;
      rebuild();
    }, 20);
  };
  for (const inf of [ingresses, classes])
    inf.addEventHandlers({ add: schedule, update: schedule, delete: (i) => (synced.delete(`${i.metadata?.namespace}/${i.metadata?.name}`), schedule()) });

  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const forward = (req: IncomingMessage, res: ServerResponse, scheme: 'http' | 'https') => {
    const path = (req.url ?? '/').split('?')[0];
    const match: Match | undefined = table.match(req.headers.host ?? '', path);
    if (!match) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    const ep = backends.pick(match.backend);
    if (!ep) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('no available server\n');
      return;
    }
    const headers: Record<string, string | string[] | undefined> = { ...req.headers };
    for (const h of hopByHop) delete headers[h];
    const peer = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${peer}` : peer;
    headers['x-forwarded-host'] = req.headers.host;
    headers['x-forwarded-proto'] = scheme;
    headers['x-real-ip'] = peer;
    const upstream = httpRequest({ host: ep.address, port: ep.port, method: req.method, path: req.url, headers, agent }, (up) => {
      const out: Record<string, string | string[] | undefined> = { ...up.headers };
      for (const h of hopByHop) delete out[h];
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      log({ level: 'warn', msg: 'backend request failed', backend: `${ep.address}:${ep.port}`, ingress: match.ingress, error: err.message });
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Gateway\n');
      else res.destroy();
    });
    req.pipe(upstream);
  };
  // WebSocket and other upgrades: the raw connection is spliced to the backend after the request head.
  const tunnel = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = table.match(req.headers.host ?? '', (req.url ?? '/').split('?')[0]);
    const ep = match && backends.pick(match.backend);
    if (!ep) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const up: Socket = connect(ep.port, ep.address, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  };

  const http: Server = createHttpServer((req, res) => forward(req, res, 'http'));
  const https = createHttpsServer(
    {
      ...fallbackCert,
      SNICallback: (name, cb) => {
        const ref = table.tlsFor(name.toLowerCase());
        const ctx = ref ? contexts.contextOf(secrets.get(`${ref.namespace}/${ref.secretName}`)) : undefined;
        cb(null, ctx ?? fallbackContext);
      },
    },
    (req, res) => forward(req, res, 'https'),
  );
  for (const s of [http, https]) {
    s.on('upgrade', tunnel);
    s.on('clientError', (_err, socket) => socket.destroy());
  }
  const listen = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, address, () => {
        s.off('error', reject);
        const a = s.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const httpPort = await listen(http, opts.httpPort ?? 80);
  let httpsPort: number;
  try {
    httpsPort = await listen(https as unknown as Server, opts.httpsPort ?? 443);
  } catch (err) {
    http.close();
    throw err;
  }
  log({ level: 'info', msg: 'ingress controller listening', address, httpPort, httpsPort, ingressClass: ingressClassName });
  rebuild();

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(pending);
    agent.destroy();
    await Promise.all([http, https].map((s) => new Promise<void>((r) => s.close(() => r()))));
  };
  opts.signal.addEventListener('abort', () => void stop(), { once: true });
  return { httpPort, httpsPort, stop };
}
