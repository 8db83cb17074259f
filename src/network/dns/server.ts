/**
 * @module The DNS wire side of cluster DNS: UDP and TCP listeners that answer names in the
 * cluster zone (and the reverse names it holds) from the DnsIndex, authoritatively, and
 * forward everything else upstream. UDP answers respect the client's size (512 bytes or
 * its EDNS buffer) and set TC when cut, so clients retry over TCP.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server as TcpServer, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import { type Forwarder } from './forward.js';
import type { DnsIndex, LookupResult } from './records.js';

const rcodes = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof rcodes;

/** What this server advertises in EDNS (the DNS flag day 2020 size). */
const ednsBufferSize = 1232;
const tcpIdleMs = 10_000;
/** Encoded answers kept per distinct query (all of it but the id); emptied when the index changes. */
const maxCachedAnswers = 10_000;
/** k3s's Corefile `cache 30`: upstream answers are kept for their TTL, at most 30 s. */
const maxForwardCacheSeconds = 30;

/** What one answered query was, for metrics (CoreDNS's request/response labels). */
export interface QueryObservation {
  proto: 'udp' | 'tcp';
  /** The question type ("A", "SRV", ...); "" when the message had none. */
  type: string;
  /** The zone that answered: the cluster zone, or "." for forwarded names. */
  zone: string;
  rcode: string;
  /** Who produced the answer: kubernetes (the index), cache, forward, or "" (errors). */
  plugin: string;
  seconds: number;
}

export interface DnsServerOptions {
  index: DnsIndex;
  forwarder: Forwarder;
  log?: (msg: Record<string, unknown>) => void;
  /** Called once per answered query. */
  observe?: (o: QueryObservation) => void;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
}

interface ForwardedAnswer {
  packet: DecodedPacket;
  storedAt: number;
  ttl: number;
}

const rcodeNames = Object.fromEntries(Object.entries(rcodes).map(([k, v]) => [v, k])) as Record<number, string>;

interface CachedAnswer {
  out: Buffer;
  type: string;
}

export interface DnsStats {
  queries: number;
  forwarded: number;
  nxdomain: number;
  servfail: number;
}

export class DnsServer {
  private udp?: UdpSocket;
  private tcp?: TcpServer;
  private readonly conns = new Set<Socket>();
  readonly stats: DnsStats = { queries: 0, forwarded: 0, nxdomain: 0, servfail: 0 };
  private readonly cache = new Map<string, CachedAnswer>();
  private readonly forwardCache = new Map<string, ForwardedAnswer>();
  private cacheGeneration = -1;

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds UDP and TCP on host:port (port 0: one free port for both); returns the port. */
  async listen(host: string, port: number): Promise<number> {
    const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    udp.on('message', (msg, rinfo) => {
      // Cached answers go back at once, without a promise in between.
      const cached = this.answerFromCache(msg, 'udp');
      if (cached) {
        udp.send(cached, rinfo.port, rinfo.address);
        return;
      }
      void this.answer(msg, 'udp').then(
        (out) => {
          if (out) udp.send(out, rinfo.port, rinfo.address);
        },
        (err: unknown) => this.opts.log?.({ level: 'warn', msg: 'dns query failed', error: String(err) }),
      );
    });
    udp.on('error', (err) => this.opts.log?.({ level: 'warn', msg: 'dns udp socket error', error: String(err) }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: host, port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udp = udp;
    const bound = udp.address().port;
    const tcp = createServer((sock) => this.serveTcp(sock));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port: bound, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      this.udp = undefined;
      throw err;
    }
    this.tcp = tcp;
    return bound;
  }

  private serveTcp(sock: Socket): void {
    this.conns.add(sock);
    sock.setTimeout(tcpIdleMs, () => sock.destroy());
    sock.on('close', () => this.conns.delete(sock));
    sock.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        void this.answer(Buffer.from(msg), 'tcp').then(
          (out) => {
            if (!out || sock.destroyed) return;
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(out.length, 0);
            sock.write(Buffer.concat([prefix, out]));
          },
          () => sock.destroy(),
        );
      }
    });
  }

  /** The cached answer to a query asked before (the index unchanged since), or undefined. */
  answerFromCache(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    const { index } = this.opts;
    if (this.cacheGeneration !== index.generation || msg.length < 12 || msg.length > 512) return undefined;
    const t0 = this.opts.observe ? process.hrtime.bigint() : 0n;
    const hit = this.cache.get(`${transport}${msg.toString('latin1', 2)}`);
    if (!hit) return undefined;
    this.stats.queries++;
    const out = Buffer.from(hit.out);
    out.writeUInt16BE(msg.readUInt16BE(0), 0);
    const rcode = out[3] & 0x0f;
    if (rcode === rcodes.NXDOMAIN) this.stats.nxdomain++;
    this.opts.observe?.({ proto: transport, type: hit.type, zone: `${index.zone}.`, rcode: rcodeNames[rcode] ?? String(rcode), plugin: 'cache', seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    return out;
  }

  /** The response to one DNS message (undefined: drop it, it was not a query). */
  async answer(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    const observe = this.opts.observe;
    if (!observe) return this.respondTo(msg, transport);
    const t0 = process.hrtime.bigint();
    const seen: { type: string; zone: string; plugin: string } = { type: '', zone: '.', plugin: '' };
    const out = await this.respondTo(msg, transport, seen);
    if (out && out.length >= 4)
      observe({ proto: transport, ...seen, rcode: rcodeNames[out[3] & 0x0f] ?? String(out[3] & 0x0f), seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    return out;
  }

  private async respondTo(msg: Buffer, transport: 'udp' | 'tcp', seen?: { type: string; zone: string; plugin: string }): Promise<Buffer | undefined> {
    this.stats.queries++;
    const { index } = this.opts;
    if (this.cacheGeneration !== index.generation) {
      this.cache.clear();
      this.cacheGeneration = index.generation;
    }
    // The same question with the same flags and EDNS gets the same bytes back, but for the id.
    const key = msg.length >= 12 && msg.length <= 512 ? `${transport}${msg.toString('latin1', 2)}` : undefined;
    const hit = key !== undefined ? this.cache.get(key) : undefined;
    if (hit) {
      const out = Buffer.from(hit.out);
      out.writeUInt16BE(msg.readUInt16BE(0), 0);
      if (seen) Object.assign(seen, { type: hit.type, zone: `${index.zone}.`, plugin: 'cache' });
      if ((out[3] & 0x0f) === rcodes.NXDOMAIN) this.stats.nxdomain++;
      return out;
    }
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      if (msg.length < 12 || msg[2] & 0x80) return undefined;
      return this.bare(msg.readUInt16BE(0), 'FORMERR', msg[2] & 0x01);
    }
    if (query.type === 'response') return undefined;
    const rd = query.flags !== undefined ? query.flags & dnsPacket.RECURSION_DESIRED : 0;
    const q = query.questions?.[0];
    if (!q) return this.bare(query.id ?? 0, 'FORMERR', rd);
    const opcode = (query as { opcode?: string }).opcode;
    if (opcode && opcode !== 'QUERY') return this.bare(query.id ?? 0, 'NOTIMP', rd);
    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (seen) seen.type = q.type;
    if (!index.inZone(name) && !index.hasPtr(name)) {
      if (seen) seen.plugin = 'forward';
      const cached = key !== undefined ? this.fromForwardCache(key, query.id ?? 0) : undefined;
      if (cached) {
        if (seen) seen.plugin = 'cache';
        return cached;
      }
      this.stats.forwarded++;
      try {
        const out = await this.opts.forwarder.forward(msg, transport);
        if (key !== undefined) this.toForwardCache(key, out);
        return out;
      } catch {
        this.stats.servfail++;
        return this.respond(query, { rcode: 'NOERROR', answers: [], additionals: [], authorities: [] }, 'SERVFAIL', transport, false);
      }
    }
    if (seen) Object.assign(seen, { zone: `${index.zone}.`, plugin: 'kubernetes' });
    const result = index.lookup(name, q.type);
    if (result.chase) await this.chase(result, q.type);
    if (result.rcode === 'NXDOMAIN') this.stats.nxdomain++;
    const out = this.respond(query, result, result.rcode, transport, true);
    if (key !== undefined && !result.chase) {
      if (this.cache.size >= maxCachedAnswers) this.cache.clear();
      this.cache.set(key, { out, type: q.type });
    }
    return out;
  }

  /**
   * Keeps an upstream answer for the smallest TTL in it (a denial: its SOA's minimum), capped
   * at 30 s; truncated answers and failures are not kept.
   */
  private toForwardCache(key: string, out: Buffer): void {
    let packet: DecodedPacket;
    try {
      packet = dnsPacket.decode(out);
    } catch {
      return;
    }
    const rcode = (packet as { rcode?: string }).rcode;
    if (packet.flag_tc || (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN')) return;
    let ttl = maxForwardCacheSeconds;
    const records = (packet.answers ?? []).filter((a) => a.type !== 'OPT') as Array<{ ttl?: number }>;
    if (records.length > 0) for (const a of records) ttl = Math.min(ttl, a.ttl ?? 0);
    else {
      const soa = (packet.authorities ?? []).find((a) => a.type === 'SOA') as { ttl?: number; data?: { minimum?: number } } | undefined;
      if (!soa) return;
      ttl = Math.min(ttl, soa.ttl ?? 0, soa.data?.minimum ?? 0);
    }
    if (ttl <= 0) return;
    if (this.forwardCache.size >= maxCachedAnswers) this.forwardCache.clear();
    this.forwardCache.set(key, { packet, storedAt: this.now(), ttl });
  }

  /** A kept upstream answer with its TTLs counted down, or undefined once it has expired. */
  private fromForwardCache(key: string, id: number): Buffer | undefined {
    const hit = this.forwardCache.get(key);
    if (!hit) return undefined;
    const elapsed = Math.floor((this.now() - hit.storedAt) / 1000);
    if (elapsed >= hit.ttl) {
      this.forwardCache.delete(key);
      return undefined;
    }
    const age = <T>(rrs: T[] | undefined): T[] =>
      (rrs ?? []).map((r) => ((r as { type?: string }).type === 'OPT' ? r : { ...r, ttl: Math.max(0, Math.min((r as { ttl?: number }).ttl ?? 0, hit.ttl) - elapsed) }));
    return dnsPacket.encode({ ...hit.packet, id, answers: age(hit.packet.answers), authorities: age(hit.packet.authorities), additionals: age(hit.packet.additionals) });
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** An ExternalName pointing outside the zone: the target's addresses from upstream follow the CNAME. */
  private async chase(result: LookupResult, type: string): Promise<void> {
    const target = result.chase!;
    const q = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as 'A', name: target, class: 'IN' }] });
    try {
      const answer = dnsPacket.decode(await this.opts.forwarder.forward(q, 'udp'));
      for (const a of answer.answers ?? []) if (a.type !== 'OPT') result.answers.push(a);
    } catch {
      /* the CNAME alone still tells the client where to look */
    }
  }

  private bare(id: number, rcode: Rcode, rd: number): Buffer {
    return dnsPacket.encode({ type: 'response', id, flags: rcodes[rcode] | (rd ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.RECURSION_AVAILABLE, questions: [] });
  }

  private respond(query: DecodedPacket, result: LookupResult, rcode: Rcode, transport: 'udp' | 'tcp', authoritative: boolean): Buffer {
    const q = query.questions![0];
    const asked = q.name.toLowerCase().replace(/\.$/, '');
    // The client's own spelling of the name (0x20 case randomisation) goes back to it.
    const named = (a: Answer): Answer => (a.name === asked ? { ...a, name: q.name } : a);
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const flags =
      rcodes[rcode] |
      (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
      ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
      dnsPacket.RECURSION_AVAILABLE;
    const packet: Packet = {
      type: 'response',
      id: query.id,
      flags,
      questions: [q],
      answers: result.answers.map(named),
      authorities: result.authorities,
      additionals: result.additionals,
    };
    if (opt) packet.additionals = [...(packet.additionals ?? []), { type: 'OPT', name: '.', udpPayloadSize: ednsBufferSize, flags: 0, options: [] } as unknown as Answer];
    let out = dnsPacket.encode(packet);
    if (transport === 'udp') {
      const limit = Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 65535));
      if (out.length > limit) {
        // RFC 2181 §9: a cut answer says so; the client repeats the query over TCP.
        packet.flags = flags | dnsPacket.TRUNCATED_RESPONSE;
        packet.additionals = opt ? [packet.additionals![packet.additionals!.length - 1]] : [];
        packet.authorities = [];
        while (packet.answers!.length > 0 && dnsPacket.encodingLength(packet) > limit) packet.answers!.pop();
        out = dnsPacket.encode(packet);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.udp?.close();
    this.udp = undefined;
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
    this.tcp = undefined;
  }
}
