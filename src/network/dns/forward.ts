/**
 * @module Forwarding of names outside the cluster zone to the host's resolvers (CoreDNS's
 * `forward . /etc/resolv.conf`): queries are relayed as they came, over UDP with the message
 * id remapped, or over TCP; each upstream is tried in turn before SERVFAIL.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, isIPv6 } from 'node:net';

export interface Upstream {
  host: string;
  port: number;
}

/** The nameservers of a resolv.conf text, minus addresses that would loop back to us. */
export function upstreamsFromResolvConf(text: string, exclude: string[] = []): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === 'nameserver' && v && !exclude.includes(v)) out.push({ host: v.replace(/%.*$/, ''), port: 53 });
  }
  return out;
}

/** The host's resolvers (kubelet's --resolv-conf; systemd-resolved's real list when the stub is in front). */
export function hostUpstreams(exclude: string[] = []): Upstream[] {
  let text = '';
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return [];
  }
  return upstreamsFromResolvConf(text, exclude);
}

export class NoUpstreamError extends Error {
  constructor(message = 'no upstream resolver answered') {
    super(message);
    this.name = 'NoUpstreamError';
  }
}

interface Pending {
  resolve(msg: Buffer): void;
  timer: NodeJS.Timeout;
}

export class Forwarder {
  private udp4?: UdpSocket;
  private udp6?: UdpSocket;
  private readonly pending = new Map<number, Pending>();
  private nextId = Math.floor(Math.random() * 0xffff);
  private closed = false;

  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2000,
  ) {}

  private socket(v6: boolean): UdpSocket {
    const existing = v6 ? this.udp6 : this.udp4;
    if (existing) return existing;
    const s = createSocket(v6 ? 'udp6' : 'udp4');
    s.on('message', (msg) => {
      if (msg.length < 2) return;
      const p = this.pending.get(msg.readUInt16BE(0));
      if (!p) return;
      this.pending.delete(msg.readUInt16BE(0));
      clearTimeout(p.timer);
      p.resolve(msg);
    });
    s.on('error', () => {});
    s.unref();
    if (v6) this.udp6 = s;
    else this.udp4 = s;
    return s;
  }

  private allocateId(): number {
    for (let i = 0; i < 0x10000; i++) {
      this.nextId = (this.nextId + 1) & 0xffff;
      if (!this.pending.has(this.nextId)) return this.nextId;
    }
    throw new NoUpstreamError('too many queries in flight');
  }

  /** One UDP exchange; resolves undefined on timeout. */
  private exchangeUdp(query: Buffer, up: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const id = this.allocateId();
      const msg = Buffer.from(query);
      msg.writeUInt16BE(id, 0);
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.socket(isIPv6(up.host)).send(msg, up.port, up.host, (err) => {
        if (!err) return;
        this.pending.delete(id);
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** One TCP exchange (RFC 1035 length-prefixed); resolves undefined on failure. */
  private exchangeTcp(query: Buffer, up: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = connect({ host: up.host, port: up.port });
      let buf = Buffer.alloc(0);
      const done = (v: Buffer | undefined) => {
        clearTimeout(timer);
        sock.destroy();
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      sock.on('connect', () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length, 0);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      });
      sock.on('error', () => done(undefined));
      sock.on('close', () => done(undefined));
    });
  }

  /** The upstream's answer to a raw query, with the caller's message id; throws NoUpstreamError. */
  async forward(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    if (this.closed) throw new NoUpstreamError('forwarder closed');
    const id = query.readUInt16BE(0);
    for (const up of this.upstreams) {
      // A truncated UDP answer goes back as it is: the client retries over TCP, and so do we.
      const answer = transport === 'udp' ? await this.exchangeUdp(query, up) : await this.exchangeTcp(query, up);
      if (answer) {
        const out = Buffer.from(answer);
        out.writeUInt16BE(id, 0);
        return out;
      }
    }
    throw new NoUpstreamError();
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    this.udp4?.close();
    this.udp6?.close();
  }
}
