/** @module The cluster DNS index answers every record the Kubernetes DNS specification names. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { DnsIndex, reverseName, type Answer } from './records.js';

const zone = 'cluster.local';

function service(name: string, spec: KObject, ns = 'default'): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

function slice(svc: string, name: string, endpoints: KObject[], ports: KObject[], ns = 'default'): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

const ep = (ip: string, over: KObject = {}): KObject => ({ addresses: [ip], conditions: { ready: true }, ...over });
const data = (r: { answers: Answer[] }) => r.answers.map((a) => a.data);

function fixture(): DnsIndex {
  const idx = new DnsIndex(zone, '10.43.0.10');
  idx.upsertService(
    service('web', { type: 'ClusterIP', clusterIP: '10.43.5.6', clusterIPs: ['10.43.5.6'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000, protocol: 'UDP' }] }),
  );
  idx.upsertService(service('db', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  idx.upsertSlice(
    slice(
      'db',
      'db-abc',
      [ep('10.42.0.5', { hostname: 'db-0' }), ep('10.42.0.6', { hostname: 'db-1' }), ep('10.42.0.7', { conditions: { ready: false } }), ep('10.42.0.8')],
      [{ name: 'pg', port: 15432, protocol: 'TCP' }],
    ),
  );
  idx.upsertService(service('ext', { type: 'ExternalName', externalName: 'db.example.com.' }));
  idx.upsertService(service('alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }));
  return idx;
}

describe('cluster DNS records', () => {
  test('A for a ClusterIP Service; AAAA answers NOERROR with no data for an IPv4-only one', () => {
    const idx = fixture();
    const a = idx.lookup('web.default.svc.cluster.local', 'A');
    assert.equal(a.rcode, 'NOERROR');
    assert.deepEqual(data(a), ['10.43.5.6']);
    assert.equal(a.answers[0].ttl, 5);
    const aaaa = idx.lookup('web.default.svc.cluster.local', 'AAAA');
    assert.equal(aaaa.rcode, 'NOERROR');
    assert.equal(aaaa.answers.length, 0);
    assert.equal(aaaa.authorities[0].type, 'SOA', 'NODATA carries the zone SOA for negative caching');
  });

  test('unknown names in the zone are NXDOMAIN; namespaces and svc are empty non-terminals', () => {
    const idx = fixture();
    assert.equal(idx.lookup('nope.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(idx.lookup('web.other.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    const ns = idx.lookup('default.svc.cluster.local', 'A');
    assert.equal(ns.rcode, 'NOERROR');
    assert.equal(ns.answers.length, 0);
    assert.equal(idx.lookup('svc.cluster.local', 'A').rcode, 'NOERROR');
  });

  test('SRV for named ports of a ClusterIP Service, and for all ports on the Service name', () => {
    const idx = fixture();
    const srv = idx.lookup('_http._tcp.web.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(srv), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    assert.deepEqual(data({ answers: srv.additionals }), ['10.43.5.6']);
    assert.equal(idx.lookup('_http._udp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
    assert.deepEqual(
      idx.lookup('web.default.svc.cluster.local', 'SRV').answers.map((a) => (a.data as { port: number }).port),
      [80, 9000],
    );
    assert.equal((idx.lookup('web.default.svc.cluster.local', 'SRV').answers[0].data as { weight: number }).weight, 50);
  });

  test('a headless Service answers its ready endpoints, each also under its own name', () => {
    const idx = fixture();
    assert.deepEqual(data(idx.lookup('db.default.svc.cluster.local', 'A')).sort(), ['10.42.0.5', '10.42.0.6', '10.42.0.8']);
    assert.deepEqual(data(idx.lookup('db-0.db.default.svc.cluster.local', 'A')), ['10.42.0.5']);
    // Endpoints without a hostname are named by their address.
    assert.deepEqual(data(idx.lookup('10-42-0-8.db.default.svc.cluster.local', 'A')), ['10.42.0.8']);
    assert.equal(idx.lookup('10-42-0-7.db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'not ready: not published');
  });

  test('publishNotReadyAddresses publishes endpoints that are not ready', () => {
    const idx = fixture();
    idx.upsertService(service('db', { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], publishNotReadyAddresses: true, ports: [{ name: 'pg', port: 5432 }] }));
    assert.ok(data(idx.lookup('db.default.svc.cluster.local', 'A')).includes('10.42.0.7'));
  });

  test('SRV of a headless Service: one per endpoint, its own name as target, the endpoint port', () => {
    const idx = fixture();
    const srv = idx.lookup('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    const targets = srv.answers.map((a) => a.data as { port: number; target: string }).sort((x, y) => x.target.localeCompare(y.target));
    assert.deepEqual(
      targets.map((t) => `${t.target}:${t.port}`),
      ['10-42-0-8.db.default.svc.cluster.local:15432', 'db-0.db.default.svc.cluster.local:15432', 'db-1.db.default.svc.cluster.local:15432'],
    );
    assert.equal(srv.additionals.filter((a) => a.type === 'A').length, 3);
    assert.deepEqual(new Set(srv.answers.map((a) => (a.data as { weight: number }).weight)), new Set([33]), '100 shared among three');
  });

  test('hostname and subdomain: a pod in a headless Service named by its subdomain', () => {
    const idx = new DnsIndex(zone, '10.43.0.10');
    idx.upsertService(service('team', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] }, 'apps'));
    idx.upsertSlice(slice('team', 'team-1', [ep('10.42.1.9', { hostname: 'alice' })], [{ port: 80, protocol: 'TCP' }], 'apps'));
    assert.deepEqual(data(idx.lookup('alice.team.apps.svc.cluster.local', 'A')), ['10.42.1.9']);
  });

  test('pod records: the address spelled with dashes (pods insecure), verified against Pods when asked', () => {
    const idx = fixture();
    assert.deepEqual(data(idx.lookup('10-42-0-99.default.pod.cluster.local', 'A')), ['10.42.0.99']);
    assert.equal(idx.lookup('not-an-ip.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
    const verified = new DnsIndex(zone, '10.43.0.10', 'verified');
    assert.equal(verified.lookup('10-42-0-99.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
    const pod: KObject = { metadata: { name: 'p', namespace: 'default' }, status: { podIP: '10.42.0.99', podIPs: [{ ip: '10.42.0.99' }] } };
    verified.upsertPod(pod);
    assert.deepEqual(data(verified.lookup('10-42-0-99.default.pod.cluster.local', 'A')), ['10.42.0.99']);
    assert.equal(verified.lookup('10-42-0-99.other.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
    verified.deletePod(pod);
    assert.equal(verified.lookup('10-42-0-99.default.pod.cluster.local', 'A').rcode, 'NXDOMAIN');
  });

  test('PTR for ClusterIPs and for headless endpoints', () => {
    const idx = fixture();
    assert.equal(reverseName('10.43.5.6'), '6.5.43.10.in-addr.arpa');
    assert.deepEqual(data(idx.lookup('6.5.43.10.in-addr.arpa', 'PTR')), ['web.default.svc.cluster.local']);
    assert.deepEqual(data(idx.lookup('5.0.42.10.in-addr.arpa', 'PTR')), ['db-0.db.default.svc.cluster.local']);
    assert.equal(idx.hasPtr('1.1.168.192.in-addr.arpa'), false, 'other reverse names are forwarded');
  });

  test('ExternalName is a CNAME; one inside the zone carries the target records too', () => {
    const idx = fixture();
    const ext = idx.lookup('ext.default.svc.cluster.local', 'A');
    assert.deepEqual(ext.answers.map((a) => [a.type, a.data]), [['CNAME', 'db.example.com']]);
    assert.equal(ext.chase, 'db.example.com', 'the server resolves the outside target upstream');
    const alias = idx.lookup('alias.default.svc.cluster.local', 'A');
    assert.deepEqual(alias.answers.map((a) => [a.type, a.data]), [['CNAME', 'web.default.svc.cluster.local'], ['A', '10.43.5.6']]);
  });

  test('the zone apex answers SOA and NS; dns-version answers TXT', () => {
    const idx = fixture();
    assert.equal(idx.lookup('cluster.local', 'SOA').answers[0].type, 'SOA');
    const ns = idx.lookup('cluster.local', 'NS');
    assert.deepEqual(data(ns), ['ns.dns.cluster.local']);
    assert.deepEqual(data({ answers: ns.additionals }), ['10.43.0.10']);
    assert.deepEqual(data(idx.lookup('dns-version.cluster.local', 'TXT')), ['1.1.0']);
  });

  test('updates and deletes of Services and slices take records away', () => {
    const idx = fixture();
    idx.upsertSlice(slice('db', 'db-abc', [ep('10.42.0.5', { hostname: 'db-0' })], [{ name: 'pg', port: 15432, protocol: 'TCP' }]));
    assert.deepEqual(data(idx.lookup('db.default.svc.cluster.local', 'A')), ['10.42.0.5']);
    assert.equal(idx.lookup('db-1.db.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(idx.hasPtr('6.0.42.10.in-addr.arpa'), false);
    idx.deleteService(service('web', {}));
    assert.equal(idx.lookup('web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
    assert.equal(idx.hasPtr('6.5.43.10.in-addr.arpa'), false);
    idx.deleteService(service('db', {}));
    idx.deleteService(service('ext', {}));
    idx.deleteService(service('alias', {}));
    assert.equal(idx.lookup('default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'no Service left in the namespace');
    assert.deepEqual(idx.size, { names: 0, ptrs: 0, services: 0 });
  });
});
