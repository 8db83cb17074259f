/**
 * @module The userspace service proxy (kube-proxy's old userspace mode, k3s rootless's
 * port forwarding): a TCP or UDP listener per frontend address and port (NodePorts and
 * LoadBalancer ports on the node's own addresses) that forwards each connection or UDP
 * flow to a ready endpoint, round robin, honouring ClientIP affinity. A frontend with no
 * endpoints has no listener, so connections are refused at once. Used without root or
 * nft, and for loopback node addresses, which the kernel path cannot NAT to pods.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../index.js';
import { inCIDRs, type Protocol } from './service-ports.js';

export interface Frontend {
  protocol: Protocol;
  ip: string;
  port: number;
  /** "ns/svc:port" for logs. */
  servicePort: string;
  backends: Array<{ ip: string; port: number }>;
  stickyMaxAgeSeconds?: number;
  /** Only clients from these CIDRs (loadBalancerSourceRanges); absent = everyone. */
  sourceRanges?: string[];
}

/** How long a UDP flow without traffic keeps its backend socket (conntrack's udp timeout). */
const udpFlowIdleMs = 30_000;
const connectTimeoutMs = 3_000;

interface Listener {
  key: string;
  frontend: Frontend;
  next: number;
  affinity: Map<string, { backend: string; until: number }>;
  close(): Promise<void>;
}

const backendKey = (b: { ip: string; port: number }) => `${b.ip}:${b.port}`;
/** "::ffff:127.0.0.1" (an IPv4 client of a dual-stack socket) → "127.0.0.1". */
const normalizeIP = (ip: string | undefined) => (ip ?? '').replace(/^::ffff:/, '');

export class UserspaceProxy {
  private readonly listeners = new Map<string, Listener>();
  /** Frontends whose port could not be bound, retried on the next update. */
  private readonly failed = new Map<string, string>();

  constructor(private readonly log: Logger) {}

  /** Serves exactly these frontends (those with backends); returns once listeners are bound or failed. */
  async update(frontends: Frontend[]): Promise<void> {
    const want = new Map<string, Frontend>();
    for (const f of frontends) if (f.backends.length > 0) want.set(`${f.protocol}:${f.ip}:${f.port}`, f);
    for (const [key, l] of [...this.listeners]) {
      if (!want.has(key)) {
        this.listeners.delete(key);
        await l.close();
      }
    }
    for (const [key, f] of want) {
      const l = this.listeners.get(key);
      if (l) {
        l.frontend = f;
        continue;
      }
      try {
        const created = f.protocol === 'udp' ? await this.listenUdp(key, f) : f.protocol === 'tcp' ? await this.listenTcp(key, f) : undefined;
        if (created) this.listeners.set(key, created);
        this.failed.delete(key);
      } catch (err) {
        const msg = String((err as Error).message ?? err);
        if (this.failed.get(key) !== msg) this.log({ level: 'warn', msg: 'cannot listen for service port', servicePort: f.servicePort, address: `${f.ip}:${f.port}`, protocol: f.protocol, error: msg });
        this.failed.set(key, msg);
      }
    }
  }

  /** Addresses currently served ("tcp:127.0.0.1:30080"). */
  serving(): string[] {
    return [...this.listeners.keys()].sort();
  }

  async stop(): Promise<void> {
    for (const l of this.listeners.values()) await l.close();
    this.listeners.clear();
  }

  private pick(l: Listener, client: string): { ip: string; port: number } | undefined {
    const { backends, stickyMaxAgeSeconds } = l.frontend;
    if (backends.length === 0) return undefined;
    const now = Date.now();
    if (stickyMaxAgeSeconds !== undefined) {
      const a = l.affinity.get(client);
      const b = a && a.until > now ? backends.find((x) => backendKey(x) === a.backend) : undefined;
      if (b) {
        a!.until = now + stickyMaxAgeSeconds * 1000;
        return b;
      }
    }
    const b = backends[l.next++ % backends.length];
    if (stickyMaxAgeSeconds !== undefined) l.affinity.set(client, { backend: backendKey(b), until: now + stickyMaxAgeSeconds * 1000 });
    return b;
  }

  private listenTcp(key: string, frontend: Frontend): Promise<Listener> {
    const sockets = new Set<Socket>();
    const l: Listener = {
      key,
      frontend,
      next: 0,
      affinity: new Map(),
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
    };
    const server: Server = createServer((client) => {
      const ranges = l.frontend.sourceRanges;
      if (ranges?.length && !inCIDRs(normalizeIP(client.remoteAddress), ranges)) {
        client.destroy();
        return;
      }
      sockets.add(client);
      client.on('close', () => sockets.delete(client));
      client.on('error', () => undefined);
      this.forwardTcp(l, client, sockets, 0);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: frontend.ip, port: frontend.port }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log({ level: 'warn', msg: 'service port listener error', servicePort: l.frontend.servicePort, error: String(err) }));
        resolve(l);
      });
    });
  }

  /** Tries backends in turn (the userspace proxy retried a refused connect on the next endpoint). */
  private forwardTcp(l: Listener, client: Socket, sockets: Set<Socket>, attempt: number): void {
    const b = this.pick(l, client.remoteAddress ?? '');
    if (!b || attempt >= l.frontend.backends.length) {
      client.resetAndDestroy();
      return;
    }
    client.pause();
    const upstream = connect({ host: b.ip, port: b.port, noDelay: true });
    sockets.add(upstream);
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), connectTimeoutMs);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      client.setNoDelay(true);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      clearTimeout(timer);
      if (!connected && !client.destroyed) {
        l.affinity.delete(client.remoteAddress ?? '');
        this.forwardTcp(l, client, sockets, attempt + 1);
      } else client.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (connected) client.end();
    });
    client.on('close', () => upstream.destroy());
  }

  private listenUdp(key: string, frontend: Frontend): Promise<Listener> {
    const flows = new Map<string, { socket: UdpSocket; timer?: NodeJS.Timeout; connected: boolean; queued: Buffer[] }>();
    const server = createSocket('udp4');
    const l: Listener = {
      key,
      frontend,
      next: 0,
      affinity: new Map(),
      close: () =>
        new Promise<void>((resolve) => {
          for (const f of flows.values()) {
            if (f.timer) clearTimeout(f.timer);
            f.socket.close();
          }
          flows.clear();
          server.close(() => resolve());
        }),
    };
    const touch = (id: string) => {
      const f = flows.get(id);
      if (!f) return;
      if (f.timer) clearTimeout(f.timer);
      f.timer = setTimeout(() => {
        flows.delete(id);
        f.socket.close();
      }, udpFlowIdleMs);
      f.timer.unref();
    };
    server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      const ranges = l.frontend.sourceRanges;
      if (ranges?.length && !inCIDRs(rinfo.address, ranges)) return;
      const id = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(id);
      if (!flow) {
        const b = this.pick(l, rinfo.address);
        if (!b) return;
        const socket = createSocket('udp4');
        socket.on('message', (reply) => {
          server.send(reply, rinfo.port, rinfo.address);
          touch(id);
        });
        socket.on('error', () => undefined);
        const f: { socket: UdpSocket; connected: boolean; queued: Buffer[]; timer?: NodeJS.Timeout } = { socket, connected: false, queued: [msg] };
        flows.set(id, f);
        socket.connect(b.port, b.ip, () => {
          f.connected = true;
          for (const m of f.queued.splice(0)) socket.send(m);
        });
      } else if (flow.connected) flow.socket.send(msg);
      else flow.queued.push(msg);
      touch(id);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address: frontend.ip, port: frontend.port }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        resolve(l);
      });
    });
  }
}
