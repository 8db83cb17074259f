/**
 * @module Cluster DNS over the wire: startClusterDNS on loopback fed by informer events,
 * queried over UDP and TCP, forwarding to a fake upstream on 127.0.0.x (never a real resolver).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, Question } from 'dns-packet';
import type { KObject } from '../../api/types.js';
import type { EventHandlers, InformerFactory } from '../../client/index.js';
import type { NodeNetworkOptions } from '../index.js';
import { startClusterDNS, type ClusterDNS } from './index.js';

/** Informers reduced to what the DNS server subscribes to; tests push events by resource. */
class FakeInformers {
  readonly handlers = new Map<string, EventHandlers[]>();
  for(gvr: { resource: string }) {
    return {
      addEventHandlers: (h: EventHandlers) => {
        const list = this.handlers.get(gvr.resource) ?? [];
        list.push(h);
        this.handlers.set(gvr.resource, list);
      },
    };
  }
  add(resource: string, obj: KObject): void {
    for (const h of this.handlers.get(resource) ?? []) h.add?.(obj);
  }
}

/** A fake upstream resolver: every A question gets 192.0.2.1 (TEST-NET-1), over UDP and TCP. */
async function fakeUpstream(host: string): Promise<{ port: number; queries: string[]; close(): Promise<void> }> {
  const queries: string[] = [];
  const reply = (msg: Buffer): Buffer => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0];
    queries.push(question.name);
    const answers = question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, class: 'IN' as const, data: '192.0.2.1' }] : [];
    return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: [question], answers });
  };
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(reply(msg), rinfo.port, rinfo.address));
  await new Promise<void>((r) => udp.bind(0, host, () => r()));
  const port = udp.address().port;
  return {
    port,
    queries,
    async close() {
      udp.close();
    },
  };
}

function query(name: string, type: Question['type'], opts: { id?: number; edns?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? randomInt(65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0, options: [] } as never] : [],
  });
}

async function udpAsk(port: number, msg: Buffer): Promise<{ packet: DecodedPacket; bytes: number }> {
  const sock: UdpSocket = createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP answer')), 5000);
      sock.on('message', (m) => {
        clearTimeout(timer);
        resolve({ packet: dnsPacket.decode(m), bytes: m.length });
      });
      sock.send(msg, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

async function tcpAsk(port: number, msg: Buffer): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no TCP answer')), 5000);
    sock.on('connect', () => sock.write(dnsPacket.streamEncode(dnsPacket.decode(msg))));
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)));
      }
    });
    sock.on('error', reject);
  });
}

/** @types/dns-packet leaves the decoded rcode out. */
const rcode = (p: DecodedPacket) => (p as DecodedPacket & { rcode?: string }).rcode;
const answersOf = (p: DecodedPacket) => (p.answers ?? []).map((a) => `${a.type} ${'data' in a ? (typeof a.data === 'object' ? JSON.stringify(a.data) : String(a.data)) : ''}`);

describe('cluster DNS server', () => {
  const informers = new FakeInformers();
  const abort = new AbortController();
  let dns: ClusterDNS;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  const upstreamHost = `127.0.0.${2 + randomInt(200)}`;
  let clockMs = Date.parse('2026-01-01T00:00:00Z');

  before(async () => {
    upstream = await fakeUpstream(upstreamHost);
    const opts = {
      client: {} as never,
      informers: informers as unknown as InformerFactory,
      nodeName: 'n1',
      podCIDR: '10.42.0.0/24',
      nodeIP: '127.0.0.1',
      bridge: 'skiff0',
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      clusterDNS: '10.43.0.10',
      clusterDomain: 'cluster.local',
      privileged: false,
      signal: abort.signal,
      log: () => {},
    } satisfies NodeNetworkOptions;
    dns = await startClusterDNS({ ...opts, dns: { listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: upstreamHost, port: upstream.port }], upstreamTimeoutMs: 500, metricsPort: 0, now: () => clockMs } });
    informers.add('services', { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.43.7.7', clusterIPs: ['10.43.7.7'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    informers.add('services', { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'example.org' } });
    informers.add('services', { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] } });
    informers.add('endpointslices', {
      metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
      addressType: 'IPv4',
      endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.42.3.${i + 1}`], conditions: { ready: true } })),
      ports: [{ port: 80, protocol: 'TCP' }],
    });
  });

  after(async () => {
    abort.abort();
    await dns.stop();
    await upstream.close();
  });

  test('answers a Service A record over UDP and TCP, authoritatively, keeping the asker’s spelling', async () => {
    assert.ok(dns.port > 0);
    const { packet } = await udpAsk(dns.port, query('WeB.default.SVC.cluster.local', 'A', { id: 4242 }));
    assert.equal(packet.id, 4242);
    assert.equal(rcode(packet), 'NOERROR');
    assert.equal(packet.flag_aa, true);
    assert.equal(packet.answers![0].name, 'WeB.default.SVC.cluster.local');
    assert.deepEqual(answersOf(packet), ['A 10.43.7.7']);
    assert.deepEqual(answersOf(await tcpAsk(dns.port, query('web.default.svc.cluster.local', 'A'))), ['A 10.43.7.7']);
  });

  test('a changed Service is answered anew at once (no stale cached answer)', async () => {
    const msg = query('moved.default.svc.cluster.local', 'A');
    assert.equal(rcode((await udpAsk(dns.port, msg)).packet), 'NXDOMAIN');
    informers.add('services', { metadata: { name: 'moved', namespace: 'default' }, spec: { clusterIP: '10.43.8.1', clusterIPs: ['10.43.8.1'], ports: [{ port: 80 }] } });
    assert.deepEqual(answersOf((await udpAsk(dns.port, msg)).packet), ['A 10.43.8.1']);
    informers.add('services', { metadata: { name: 'moved', namespace: 'default' }, spec: { clusterIP: '10.43.8.2', clusterIPs: ['10.43.8.2'], ports: [{ port: 80 }] } });
    const again = await udpAsk(dns.port, msg);
    assert.deepEqual(answersOf(again.packet), ['A 10.43.8.2']);
    assert.equal(again.packet.id, msg.readUInt16BE(0), 'a cached answer carries the new query id');
  });

  test('NXDOMAIN and NODATA carry the SOA', async () => {
    const nx = (await udpAsk(dns.port, query('nope.default.svc.cluster.local', 'A'))).packet;
    assert.equal(rcode(nx), 'NXDOMAIN');
    assert.equal(nx.authorities![0].type, 'SOA');
    const nodata = (await udpAsk(dns.port, query('web.default.svc.cluster.local', 'AAAA'))).packet;
    assert.equal(rcode(nodata), 'NOERROR');
    assert.equal(nodata.answers!.length, 0);
  });

  test('names outside the zone go to the upstream and come back with the asker’s id', async () => {
    const { packet } = await udpAsk(dns.port, query('example.com', 'A', { id: 777 }));
    assert.equal(packet.id, 777);
    assert.deepEqual(answersOf(packet), ['A 192.0.2.1']);
    assert.ok(upstream.queries.includes('example.com'));
    // Reverse names the cluster does not hold fall through upstream too.
    await udpAsk(dns.port, query('1.2.168.192.in-addr.arpa', 'PTR'));
    assert.ok(upstream.queries.includes('1.2.168.192.in-addr.arpa'));
    const ptr = (await udpAsk(dns.port, query('7.7.43.10.in-addr.arpa', 'PTR'))).packet;
    assert.deepEqual(answersOf(ptr), ['PTR web.default.svc.cluster.local']);
  });

  test('upstream answers are kept for their TTL (at most 30 s), counted down, then asked again', async () => {
    const name = `cached-${randomInt(1e9)}.example.com`;
    const first = (await udpAsk(dns.port, query(name, 'A'))).packet;
    assert.deepEqual(answersOf(first), ['A 192.0.2.1']);
    clockMs += 12_000;
    const second = (await udpAsk(dns.port, query(name, 'A', { id: 99 }))).packet;
    assert.equal(second.id, 99);
    assert.deepEqual(answersOf(second), ['A 192.0.2.1']);
    assert.equal((second.answers![0] as { ttl?: number }).ttl, 18, 'the upstream 60 s capped at 30, 12 s later');
    assert.equal(upstream.queries.filter((q) => q === name).length, 1, 'the second answer came from the cache');
    clockMs += 20_000;
    await udpAsk(dns.port, query(name, 'A'));
    assert.equal(upstream.queries.filter((q) => q === name).length, 2, 'expired: asked upstream again');
  });

  test('an ExternalName answers its CNAME and the target’s addresses from upstream', async () => {
    const { packet } = await udpAsk(dns.port, query('ext.default.svc.cluster.local', 'A'));
    assert.deepEqual(answersOf(packet), ['CNAME example.org', 'A 192.0.2.1']);
  });

  test('a big answer is truncated over UDP (TC) and whole over TCP or with a large EDNS buffer', async () => {
    const udp = await udpAsk(dns.port, query('big.default.svc.cluster.local', 'A'));
    assert.equal(udp.packet.flag_tc, true);
    assert.ok(udp.bytes <= 512);
    const tcp = await tcpAsk(dns.port, query('big.default.svc.cluster.local', 'A'));
    assert.equal(tcp.flag_tc, false);
    assert.equal(tcp.answers!.length, 60);
    const edns = await udpAsk(dns.port, query('big.default.svc.cluster.local', 'A', { edns: 4096 }));
    assert.equal(edns.packet.flag_tc, false);
    assert.equal(edns.packet.answers!.length, 60);
  });

  test('garbage gets FORMERR, an unreachable upstream SERVFAIL', async () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    const out = await dns.server.answer(garbage, 'udp');
    assert.equal(out!.readUInt16BE(0), 0x1234);
    assert.equal(out![3] & 0x0f, 1, 'FORMERR');
    const dead = await startClusterDNS({
      client: {} as never,
      informers: new FakeInformers() as unknown as InformerFactory,
      nodeName: 'n1',
      podCIDR: '10.42.0.0/24',
      nodeIP: '127.0.0.1',
      bridge: 'skiff0',
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      clusterDNS: '10.43.0.10',
      clusterDomain: 'cluster.local',
      privileged: false,
      signal: abort.signal,
      log: () => {},
      // Nothing listens on port 9 of this loopback address.
      dns: { listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: upstreamHost, port: 9 }], upstreamTimeoutMs: 200 },
    });
    try {
      const { packet } = await udpAsk(dead.port, query('example.com', 'A'));
      assert.equal(rcode(packet), 'SERVFAIL');
    } finally {
      await dead.stop();
    }
  });

  test('CoreDNS metrics on /metrics: requests by type, responses by rcode and plugin, cache hits', async () => {
    const before = await (await fetch(`http://127.0.0.1:${dns.metricsPort}/metrics`)).text();
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const srvRe = /coredns_dns_requests_total\{[^}]*proto="udp"[^}]*type="SRV"\} (\d+)/;
    const nxRe = /coredns_dns_responses_total\{[^}]*rcode="NXDOMAIN",plugin="kubernetes"\} (\d+)/;
    const q = query('_http._tcp.web.default.svc.cluster.local', 'SRV');
    await udpAsk(dns.port, q);
    await udpAsk(dns.port, q);
    await udpAsk(dns.port, query(`missing-${randomInt(1e9)}.default.svc.cluster.local`, 'A'));
    const res = await fetch(`http://127.0.0.1:${dns.metricsPort}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(count(text, srvRe) - count(before, srvRe), 2);
    assert.equal(count(text, nxRe) - count(before, nxRe), 1);
    assert.match(text, /coredns_cache_hits_total\{[^}]*type="success"/);
    assert.match(text, /coredns_dns_request_duration_seconds_bucket\{/);
    assert.equal((await fetch(`http://127.0.0.1:${dns.metricsPort}/other`)).status, 404);
  });

  test('answers from the index take well under a millisecond', async () => {
    const msg = query('web.default.svc.cluster.local', 'A');
    for (let i = 0; i < 200; i++) await dns.server.answer(msg, 'udp');
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t0 = process.hrtime.bigint();
      await dns.server.answer(msg, 'udp');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    assert.ok(times[500] < 1, `median ${times[500]} ms`);
  });
});
