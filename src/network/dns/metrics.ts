/**
 * @module CoreDNS's metrics, with its names and labels (prometheus and cache plugins):
 * requests by protocol and type, responses by rcode, request duration, cache hits. They go
 * on a registry of the DNS server's own, served on :9153 at the cluster DNS address as the
 * kube-dns Service advertises, and — when the process has one — on the API server's /metrics.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import type { QueryObservation } from './server.js';

/** CoreDNS's request duration buckets: 0.25 ms doubling, 16 of them. */
const durationBuckets = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i);
/** Types CoreDNS reports by name; anything else is "other". */
const monitoredTypes = new Set(['A', 'AAAA', 'NS', 'PTR', 'SOA', 'SRV', 'CNAME', 'TXT', 'MX', 'ANY', 'OPT', 'DS', 'DNSKEY', 'IXFR', 'AXFR', 'HTTPS', 'SVCB']);

export interface DnsMetrics {
  registry: Registry;
  observe(o: QueryObservation): void;
}

export function dnsMetrics(server: string, shared?: Registry): DnsMetrics {
  const registry = new Registry();
  // Another DNS server of this process already put them on the shared registry: keep ours private.
  const registers = (name: string) => [registry, ...(shared && !shared.getSingleMetric(name) ? [shared] : [])];
  const requests = new Counter({
    name: 'coredns_dns_requests_total',
    help: 'Counter of DNS requests made per zone, protocol and family.',
    labelNames: ['server', 'zone', 'view', 'proto', 'family', 'type'],
    registers: registers('coredns_dns_requests_total'),
  });
  const responses = new Counter({
    name: 'coredns_dns_responses_total',
    help: 'Counter of response status codes.',
    labelNames: ['server', 'zone', 'view', 'rcode', 'plugin'],
    registers: registers('coredns_dns_responses_total'),
  });
  const duration = new Histogram({
    name: 'coredns_dns_request_duration_seconds',
    help: 'Histogram of the time (in seconds) each request took per zone.',
    labelNames: ['server', 'zone', 'view', 'type'],
    buckets: durationBuckets,
    registers: registers('coredns_dns_request_duration_seconds'),
  });
  const cacheHits = new Counter({
    name: 'coredns_cache_hits_total',
    help: 'The count of cache hits.',
    labelNames: ['server', 'type', 'zones', 'view'],
    registers: registers('coredns_cache_hits_total'),
  });
  // Label sets repeat endlessly: their children are looked up once (prom-client hashes labels on every call).
  interface Children {
    request: { inc(): void };
    response: { inc(): void };
    duration: { observe(v: number): void };
    cacheHit?: { inc(): void };
  }
  const children = new Map<string, Children>();
  return {
    registry,
    observe(o) {
      const type = monitoredTypes.has(o.type) ? o.type : 'other';
      const key = `${o.zone}|${o.proto}|${type}|${o.rcode}|${o.plugin}`;
      let c = children.get(key);
      if (!c) {
        c = {
          request: requests.labels({ server, zone: o.zone, view: '', proto: o.proto, family: '1', type }),
          response: responses.labels({ server, zone: o.zone, view: '', rcode: o.rcode, plugin: o.plugin }),
          duration: duration.labels({ server, zone: o.zone, view: '', type }),
          cacheHit: o.plugin === 'cache' ? cacheHits.labels({ server, type: o.rcode === 'NOERROR' ? 'success' : 'denial', zones: o.zone, view: '' }) : undefined,
        };
        children.set(key, c);
      }
      c.request.inc();
      c.response.inc();
      c.duration.observe(o.seconds);
      c.cacheHit?.inc();
    },
  };
}

/** The prometheus plugin's endpoint: GET /metrics on host:port. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    void registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
