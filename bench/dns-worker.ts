/**
 * @module Child process of the DNS benchmark: `dns` serves the cluster DNS (startClusterDNS on
 * loopback, fed with SERVICES Services and headless EndpointSlices as informer events);
 * `echo` is the same-run reference, a UDP server that sends every datagram straight back —
 * the ceiling of a Node UDP server on this machine. Prints `port <n>` when listening.
 */
import { createSocket } from 'node:dgram';
import type { KObject } from '../src/api/types.js';
import type { EventHandlers, InformerFactory } from '../src/client/index.js';
import { startClusterDNS } from '../src/network/dns/index.js';

const mode = process.argv[2];
const services = Number(process.argv[3] ?? 1000);

if (mode === 'echo') {
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  udp.bind(0, '127.0.0.1', () => process.stdout.write(`port ${udp.address().port}\n`));
} else if (mode === 'dns') {
  const handlers = new Map<string, EventHandlers[]>();
  const informers = {
    for: (gvr: { resource: string }) => ({
      addEventHandlers: (h: EventHandlers) => handlers.set(gvr.resource, [...(handlers.get(gvr.resource) ?? []), h]),
    }),
  } as unknown as InformerFactory;
  const dns = await startClusterDNS({
    client: {} as never,
    informers,
    nodeName: 'bench',
    podCIDR: '10.42.0.0/24',
    nodeIP: '127.0.0.1',
    bridge: 'skiff0',
    clusterCIDR: '10.42.0.0/16',
    serviceCIDR: '10.43.0.0/16',
    clusterDNS: '10.43.0.10',
    clusterDomain: 'cluster.local',
    privileged: false,
    signal: new AbortController().signal,
    log: () => {},
    // Nothing is forwarded in the benchmark; an upstream that would drop it all is enough.
    dns: { listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: '127.0.0.1', port: 9 }], upstreamTimeoutMs: 100 },
  });
  const add = (resource: string, obj: KObject) => {
    for (const h of handlers.get(resource) ?? []) h.add?.(obj);
  };
  for (let i = 0; i < services; i++) {
    const ip = `10.43.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
    add('services', { metadata: { name: `svc-${i}`, namespace: `ns-${i % 10}` }, spec: { type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    if (i % 10 === 0) {
      add('services', { metadata: { name: `hl-${i}`, namespace: `ns-${i % 10}` }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'http', port: 80 }] } });
      add('endpointslices', {
        metadata: { name: `hl-${i}-x`, namespace: `ns-${i % 10}`, labels: { 'kubernetes.io/service-name': `hl-${i}` } },
        addressType: 'IPv4',
        endpoints: Array.from({ length: 3 }, (_, j) => ({ addresses: [`10.42.${i % 200}.${j + 1}`], hostname: `pod-${j}`, conditions: { ready: true } })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
    }
  }
  process.stdout.write(`port ${dns.port}\n`);
} else {
  process.stderr.write('usage: dns-worker.js dns|echo [services]\n');
  process.exit(2);
}
