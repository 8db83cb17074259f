/**
 * @module The kubelet's streaming endpoints (its HTTPS server on the kubelet port, the
 * part the API server proxies to): GET /containerLogs/{ns}/{pod}/{container},
 * /exec/{ns}/{pod}[/{uid}]/{container}, /attach/… and /portForward/{ns}/{pod}[/{uid}],
 * the last three as upgrades — WebSocket (channel protocols v4/v5, or SPDY tunnelled for
 * port-forward) or SPDY/3.1. Clients authenticate with a certificate from the cluster CA,
 * as the API server does with its kubelet client certificate.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KObject } from '../../api/types.js';
import { RuntimeNotFoundError, type ContainerStatus } from '../runtime.js';
import { portForwardProtocolV1, servePortForward } from './portforward.js';
import {
  negotiateRemoteCommandProtocol,
  remoteCommandOptions,
  RemoteCommandRequestError,
  remoteCommandProtocols,
  serveRemoteCommand,
  spdyChannels,
  type RemoteCommandOptions,
} from './remotecommand.js';
import { SpdySession } from './spdy.js';
import { ContainerNotRunningError, type LogOptions, type StreamingPod, type StreamingPodResolver } from './types.js';
import { announceChannels, negotiateChannelProtocol, spdyTunnelProtocol, webSocketChannels, webSocketStream } from './websocket.js';

/** Serving certificate of the kubelet endpoint, and the CA whose client certificates it accepts. */
export interface KubeletTls {
  certPem: string;
  keyPem: string;
  clientCaPem: string;
}

export interface KubeletStreamingServerOptions {
  resolve: StreamingPodResolver;
  tls: KubeletTls;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** How long exec/attach/port-forward wait for the client's streams (kubelet: 30 s). */
  streamCreationTimeoutMs?: number;
  log?: (msg: Record<string, unknown>) => void;
  /** Further plain GET endpoints (stats, metrics), tried after authentication; true when handled. */
  routes?: Array<(req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>>;
}

/** An HTTP error the kubelet answers with a plain-text body. */
export class KubeletHttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'KubeletHttpError';
  }
}

const reasonPhrases: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** Writes a whole HTTP/1.1 response on a raw (not yet upgraded) socket and closes it. */
export function writeRawResponse(socket: Duplex, code: number, body: string, headers: Record<string, string> = {}): void {
  const payload = Buffer.from(body);
  const lines = [
    `HTTP/1.1 ${code} ${reasonPhrases[code] ?? 'Error'}`,
    `Content-Type: ${headers['Content-Type'] ?? 'text/plain; charset=utf-8'}`,
    `Content-Length: ${payload.length}`,
    'Connection: close',
    ...Object.entries(headers)
      .filter(([k]) => k !== 'Content-Type')
      .map(([k, v]) => `${k}: ${v}`),
  ];
  if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), payload]));
}

/** The routes of the streaming endpoints. */
export type KubeletRoute =
  | { kind: 'containerLogs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string; uid?: string };

export function routeKubeletPath(pathname: string): KubeletRoute | undefined {
  const segs = pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  const [head, ...rest] = segs;
  switch (head) {
    case 'containerLogs':
      return rest.length === 3 ? { kind: 'containerLogs', namespace: rest[0], pod: rest[1], container: rest[2] } : undefined;
    case 'exec':
    case 'attach':
      if (rest.length === 3) return { kind: head, namespace: rest[0], pod: rest[1], container: rest[2] };
      if (rest.length === 4) return { kind: head, namespace: rest[0], pod: rest[1], uid: rest[2], container: rest[3] };
      return undefined;
    case 'portForward':
      if (rest.length === 2) return { kind: 'portForward', namespace: rest[0], pod: rest[1] };
      if (rest.length === 3) return { kind: 'portForward', namespace: rest[0], pod: rest[1], uid: rest[2] };
      return undefined;
    default:
      return undefined;
  }
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1' || v === 'True';
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new KubeletHttpError(400, `Unable to decode query: ${name}=${v}`);
  return Number(v);
}

/** kubelet's PodLogOptions from the query (previous included). */
export function logOptionsFromQuery(q: URLSearchParams): LogOptions & { previous: boolean } {
  return {
    follow: boolParam(q, 'follow'),
    previous: boolParam(q, 'previous'),
    timestamps: boolParam(q, 'timestamps'),
    tailLines: intParam(q, 'tailLines'),
    limitBytes: intParam(q, 'limitBytes'),
    sinceSeconds: intParam(q, 'sinceSeconds'),
    sinceTime: q.get('sinceTime') ?? undefined,
  };
}

const stripScheme = (id: string | undefined): string | undefined => (id ? id.replace(/^[a-z0-9+.-]+:\/\//i, '') : undefined);

function specContainerNames(pod: KObject): string[] {
  const names = (list: unknown) => (Array.isArray(list) ? (list as KObject[]).map((c) => String(c.name)) : []);
  return [...names(pod.spec?.initContainers), ...names(pod.spec?.containers), ...names(pod.spec?.ephemeralContainers)];
}

function apiContainerStatus(pod: KObject, name: string): KObject | undefined {
  for (const field of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
    const list = pod.status?.[field];
    if (!Array.isArray(list)) continue;
    const found = (list as KObject[]).find((s) => s.name === name);
    if (found) return found;
  }
  return undefined;
}

async function sandboxContainers(sp: StreamingPod): Promise<ContainerStatus[]> {
  if (!sp.sandboxId) return [];
  try {
    return await sp.runtime.listContainers({ sandboxId: sp.sandboxId });
  } catch (err) {
    if (err instanceof RuntimeNotFoundError) return [];
    throw err;
  }
}

function newestByName(containers: ContainerStatus[], name: string): ContainerStatus[] {
  return containers.filter((c) => c.name === name).sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt);
}

/**
 * The container whose log to serve (kubelet's validateContainerLogStatus): the previous
 * terminated instance for --previous, else the running or last terminated one; waiting
 * containers are errors that say why.
 */
export async function logContainerId(sp: StreamingPod, name: string, previous: boolean): Promise<string> {
  const podName = sp.pod.metadata?.name ?? '';
  if (!specContainerNames(sp.pod).includes(name)) throw new KubeletHttpError(404, `container "${name}" not found in pod "${podName}"`);
  const status = apiContainerStatus(sp.pod, name);
  const attempts = newestByName(await sandboxContainers(sp), name);
  if (previous) {
    const id = stripScheme(status?.lastState?.terminated?.containerID) ?? (attempts[1]?.state === 'CONTAINER_EXITED' ? attempts[1].id : undefined);
    if (!id) throw new KubeletHttpError(400, `previous terminated container "${name}" in pod "${podName}" not found`);
    return id;
  }
  const latest = attempts[0];
  if (latest && (latest.state === 'CONTAINER_RUNNING' || latest.state === 'CONTAINER_EXITED')) return latest.id;
  const last = stripScheme(status?.lastState?.terminated?.containerID);
  if (last) return last;
  const reason: string = status?.state?.waiting?.reason ?? 'ContainerCreating';
  if (reason === 'ErrImagePull') throw new KubeletHttpError(400, `container "${name}" in pod "${podName}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') throw new KubeletHttpError(400, `container "${name}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
  throw new KubeletHttpError(400, `container "${name}" in pod "${podName}" is waiting to start: ${reason}`);
}

/** The running instance of a container, for exec and attach. */
export async function runningContainerId(sp: StreamingPod, name: string): Promise<string> {
  const latest = newestByName(await sandboxContainers(sp), name)[0];
  if (!latest || latest.state !== 'CONTAINER_RUNNING') throw new KubeletHttpError(500, `container not found ("${name}")`);
  return latest.id;
}

function podFullName(pod: KObject): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}`;
}

export class KubeletStreamingServer {
  private server?: Server;
  /** The subprotocol chosen per request (see acceptWebSocket). */
  private readonly chosenProtocol = new WeakMap<IncomingMessage, string>();
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, handleProtocols: (_p, req) => this.chosenProtocol.get(req) ?? false });
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<{ destroy(): void }>();
  private _port = 0;

  constructor(private readonly opts: KubeletStreamingServerOptions) {}

  get port(): number {
    return this._port;
  }

  private log(msg: Record<string, unknown>): void {
    this.opts.log?.({ component: 'kubelet-streaming', ...msg });
  }

  async listen(): Promise<number> {
    const server = createServer(
      {
        cert: this.opts.tls.certPem,
        key: this.opts.tls.keyPem,
        ca: this.opts.tls.clientCaPem,
        // Answer bad clients with 401 rather than a TLS alert.
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      },
      (req, res) => void this.handleRequest(req, res),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(req, socket, head));
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('tlsClientError', () => {});
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this._port = (server.address() as AddressInfo).port;
    this.log({ level: 'info', msg: 'kubelet streaming server listening', port: this._port });
    return this._port;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private authorized(req: IncomingMessage): boolean {
    return (req.socket as TLSSocket).authorized === true;
  }

  private resolvePod(route: { namespace: string; pod: string; uid?: string }): StreamingPod {
    const sp = this.opts.resolve(route.namespace, route.pod, route.uid);
    if (!sp) throw new KubeletHttpError(404, `pod "${route.pod}" does not exist`);
    return sp;
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) throw new KubeletHttpError(401, 'Unauthorized');
      const url = new URL(req.url ?? '/', 'https://kubelet');
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      for (const extra of this.opts.routes ?? []) if (await extra(req, res, url)) return;
      const route = routeKubeletPath(url.pathname);
      if (!route) throw new KubeletHttpError(404, '404 page not found');
      if (route.kind !== 'containerLogs') throw new KubeletHttpError(400, 'Upgrade request required');
      if (req.method !== 'GET') throw new KubeletHttpError(405, `${req.method} not allowed`);
      await this.serveLogs(route, url, res);
    } catch (err) {
      const e = err instanceof KubeletHttpError ? err : new KubeletHttpError(500, err instanceof Error ? err.message : String(err));
      if (!(err instanceof KubeletHttpError)) this.log({ level: 'warn', msg: 'streaming request failed', error: String(err) });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(e.code, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(e.message);
    }
  }

  private async serveLogs(route: Extract<KubeletRoute, { kind: 'containerLogs' }>, url: URL, res: ServerResponse): Promise<void> {
    const opts = logOptionsFromQuery(url.searchParams);
    const sp = this.resolvePod(route);
    const containerId = await logContainerId(sp, route.container, opts.previous);
    const abort = new AbortController();
    const stream = await sp.runtime.logs(containerId, { ...opts, signal: abort.signal });
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
    // A follow must show the 200 at once, not at the first line.
    res.flushHeaders();
    const stop = () => {
      abort.abort();
      stream.destroy();
    };
    // The client going away closes the response; a follow then stops.
    res.once('close', stop);
    stream.on('error', (err) => {
      this.log({ level: 'warn', msg: 'log stream failed', error: String(err) });
      res.end();
    });
    stream.pipe(res);
  }

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    try {
      if (!this.authorized(req)) throw new KubeletHttpError(401, 'Unauthorized');
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const route = routeKubeletPath(url.pathname);
      if (!route || route.kind === 'containerLogs') throw new KubeletHttpError(404, '404 page not found');
      const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
      const isWebSocket = upgrade === 'websocket';
      const isSpdy = upgrade.split(/\s*,\s*/).includes('spdy/3.1');
      if (!isWebSocket && !isSpdy) throw new KubeletHttpError(400, `unsupported upgrade "${req.headers.upgrade}"`);
      if (route.kind === 'portForward') {
        const sp = this.resolvePod(route);
        if (!sp.sandboxId) throw new KubeletHttpError(500, `pod not found ("${podFullName(sp.pod)}")`);
        const sandboxId = sp.sandboxId;
        const startSession = (transport: Duplex) => {
          const session = new SpdySession(transport, { log: this.opts.log });
          this.track(() => session.destroy(), session);
          servePortForward(session, {
            dial: (port) => sp.runtime.portForward(sandboxId, port),
            podName: sandboxId,
            uid: '',
            streamCreationTimeoutMs: this.opts.streamCreationTimeoutMs,
            log: this.opts.log,
          });
        };
        if (isWebSocket) {
          if (!this.offeredWs(req).includes(spdyTunnelProtocol)) throw new KubeletHttpError(400, `port-forward over WebSocket needs subprotocol ${spdyTunnelProtocol}`);
          this.acceptWebSocket(req, socket, head, spdyTunnelProtocol, (ws) => startSession(webSocketStream(ws)));
          return;
        }
        const offered = protocolVersions(req);
        if (offered.length && !offered.includes(portForwardProtocolV1)) throw this.noCommonProtocol(offered, [portForwardProtocolV1]);
        this.acceptSpdy(socket, head, portForwardProtocolV1);
        startSession(socket);
        return;
      }
      // exec / attach
      let opts: RemoteCommandOptions;
      try {
        opts = remoteCommandOptions(url.searchParams, route.kind);
      } catch (err) {
        if (err instanceof RemoteCommandRequestError) throw new KubeletHttpError(400, err.message);
        throw err;
      }
      const sp = this.resolvePod(route);
      if (route.uid && sp.pod.metadata?.uid !== route.uid) throw new KubeletHttpError(404, `pod "${route.pod}" does not exist`);
      const containerId = await runningContainerId(sp, route.container);
      const run =
        route.kind === 'exec'
          ? (io: Parameters<typeof sp.runtime.exec>[2]) => sp.runtime.exec(containerId, opts.command, io)
          : async (io: Parameters<typeof sp.runtime.exec>[2]) => {
              await sp.runtime.attach(containerId, io);
              return undefined;
            };
      if (isWebSocket) {
        const protocol = negotiateChannelProtocol(this.offeredWs(req));
        if (!protocol) throw new KubeletHttpError(400, `unable to negotiate a channel protocol: client offered [${this.offeredWs(req).join(' ')}]`);
        this.acceptWebSocket(req, socket, head, protocol, (ws: WebSocket) => {
          this.track(() => ws.terminate(), ws);
          // Listen before anything else, so no early stdin message is missed.
          const channels = webSocketChannels(ws, protocol, opts);
          void (async () => {
            await announceChannels(ws, opts);
            await serveRemoteCommand(channels, opts, run, this.opts.log);
          })().catch((err) => this.log({ level: 'warn', msg: 'websocket session failed', error: String(err) }));
        });
        return;
      }
      const offered = protocolVersions(req);
      const protocol = negotiateRemoteCommandProtocol(offered);
      if (!protocol) throw this.noCommonProtocol(offered, [...remoteCommandProtocols]);
      this.acceptSpdy(socket, head, protocol);
      const session = new SpdySession(socket, { log: this.opts.log });
      this.track(() => session.destroy(), session);
      try {
        const channels = await spdyChannels(session, protocol, opts, this.opts.streamCreationTimeoutMs ?? 30_000);
        await serveRemoteCommand(channels, opts, run, this.opts.log);
      } catch (err) {
        this.log({ level: 'info', msg: 'spdy session failed', error: String(err) });
        session.destroy();
      }
    } catch (err) {
      const e =
        err instanceof KubeletHttpError
          ? err
          : err instanceof ContainerNotRunningError
            ? new KubeletHttpError(500, `container not found ("${err.containerId}")`)
            : err instanceof RuntimeNotFoundError
              ? new KubeletHttpError(404, err.message)
              : new KubeletHttpError(500, err instanceof Error ? err.message : String(err));
      if (!(err instanceof KubeletHttpError)) this.log({ level: 'warn', msg: 'streaming upgrade failed', error: String(err) });
      writeRawResponse(socket, e.code, e.message);
    }
  }

  /**
   * Completes a WebSocket handshake with an already negotiated subprotocol. `ws` only
   * parses RFC 6455 tokens, and `SPDY/3.1+portforward.k8s.io` has a "/" that Go clients
   * send as is, so the offer is set aside before ws sees the request.
   */
  private acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, cb: (ws: WebSocket) => void): void {
    this.chosenProtocol.set(req, protocol);
    req.headers['sec-websocket-protocol'] = 'negotiated';
    this.wss.handleUpgrade(req, socket, head, cb);
  }

  private offeredWs(req: IncomingMessage): string[] {
    return String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  private noCommonProtocol(offered: string[], supported: string[]): KubeletHttpError {
    return new KubeletHttpError(403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`);
  }

  /** The 101 of a SPDY upgrade; bytes the client sent after its request go to the session. */
  private acceptSpdy(socket: Duplex, head: Buffer, protocol: string): void {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    if (head.length) socket.unshift(head);
  }

  /** Remembers a live session so close() can end it; it forgets itself when it closes. */
  private track(destroy: () => void, emitter: { once(ev: 'close', cb: () => void): unknown }): void {
    const entry = { destroy };
    this.sessions.add(entry);
    emitter.once('close', () => this.sessions.delete(entry));
  }
}

/** X-Stream-Protocol-Version values, one header per protocol or comma-joined. */
function protocolVersions(req: IncomingMessage): string[] {
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() !== 'x-stream-protocol-version') continue;
    for (const v of req.rawHeaders[i + 1].split(',')) if (v.trim()) out.push(v.trim());
  }
  return out;
}
