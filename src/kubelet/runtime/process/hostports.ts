/**
 * @module hostPort for pods in their own network namespace (the CNI portmap plugin's role):
 * each mapping listens on the node (hostIP, or every address when it is empty) and relays
 * TCP connections and UDP datagrams to the pod's address. The relays live in the agent, so
 * a restarted agent opens them again for the sandboxes it finds running.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server } from 'node:net';
import type { PortMapping } from '../../runtime.js';

export class HostPortError extends Error {}

type Listener = { close(): void };

/** How long an idle UDP client keeps its relay socket (conntrack's UDP timeout is 30 s). */
const udpIdleMs = 30_000;

function listenTcp(m: PortMapping, podIP: string): Promise<Listener> {
  const server: Server = createServer((client) => {
    const upstream = connect(m.containerPort, podIP);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(m.hostPort, m.hostIP || undefined, () => {
      server.off('error', reject);
      resolve({ close: () => server.close() });
    });
  });
}

function listenUdp(m: PortMapping, podIP: string): Promise<Listener> {
  const front = createSocket(m.hostIP?.includes(':') ? 'udp6' : 'udp4');
  const peers = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let peer = peers.get(key);
    if (!peer) {
      const sock = createSocket('udp4');
      sock.on('message', (reply) => front.send(reply, from.port, from.address));
      sock.on('error', () => undefined);
      peer = { sock, timer: setTimeout(() => undefined, 0) };
      peers.set(key, peer);
    }
    clearTimeout(peer.timer);
    const p = peer;
    p.timer = setTimeout(() => {
      p.sock.close();
      peers.delete(key);
    }, udpIdleMs);
    p.timer.unref?.();
    p.sock.send(msg, m.containerPort, podIP);
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind(m.hostPort, m.hostIP || undefined, () => {
      front.off('error', reject);
      resolve({
        close: () => {
          for (const p of peers.values()) {
            clearTimeout(p.timer);
            p.sock.close();
          }
          peers.clear();
          front.close();
        },
      });
    });
  });
}

export class HostPorts {
  private readonly open = new Map<string, Listener[]>();

  /** Starts the sandbox's relays; all or none (a port in use fails the sandbox, as portmap does). */
  async start(sandboxId: string, podIP: string, mappings: PortMapping[] | undefined): Promise<void> {
    if (!mappings?.length || this.open.has(sandboxId)) return;
    const listeners: Listener[] = [];
    try {
      for (const m of mappings) {
        if (m.protocol === 'SCTP') throw new HostPortError(`hostPort ${m.hostPort}/SCTP is not supported by the process runtime`);
        listeners.push(await (m.protocol === 'UDP' ? listenUdp(m, podIP) : listenTcp(m, podIP)));
      }
    } catch (err) {
      for (const l of listeners) l.close();
      const m = mappings[listeners.length];
      throw new HostPortError(`cannot open hostPort ${m.hostIP || '0.0.0.0'}:${m.hostPort}/${m.protocol}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.open.set(sandboxId, listeners);
  }

  stop(sandboxId: string): void {
    for (const l of this.open.get(sandboxId) ?? []) l.close();
    this.open.delete(sandboxId);
  }

  stopAll(): void {
    for (const id of [...this.open.keys()]) this.stop(id);
  }
}
