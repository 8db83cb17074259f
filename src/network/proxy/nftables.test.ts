/** @module The service proxy's nftables rules as text: golden output for a set of Services and slices, partial updates, endpoint selection. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { userspaceFrontends } from './index.js';
import { buildRuleset, renderChanges, renderFull, type RulesetConfig } from './nftables.js';
import { categorizeEndpoints, endpointsFor, servicePortsOf, type Endpoint, type ServicePort } from './service-ports.js';

const cfg: RulesetConfig = { table: 'skiff-proxy-t', bridge: 'skt0', clusterCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16', nodePortIPs: ['192.0.2.10'], masqueradeSameBridge: false };
const sp = (o: Partial<ServicePort> = {}): ServicePort => ({
  namespace: 'default',
  service: 'web',
  portName: 'http',
  protocol: 'tcp',
  clusterIP: '10.43.0.20',
  port: 80,
  nodePort: 0,
  loadBalancerIPs: [],
  externalIPs: [],
  loadBalancerSourceRanges: [],
  externalPolicyLocal: false,
  internalPolicyLocal: false,
  ...o,
});
const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 8000, ready: true, serving: true, terminating: false, local: true, ...o });

const golden = `add chain ip skiff-proxy-t service-SUSTUHLJ-default/web/tcp/http
add chain ip skiff-proxy-t external-SUSTUHLJ-default/web/tcp/http
add chain ip skiff-proxy-t endpoint-HKELN3NI-default/web/tcp/http__10.42.0.2/8000
add chain ip skiff-proxy-t endpoint-5ZTCFK2V-default/web/tcp/http__10.42.0.3/8000
add rule ip skiff-proxy-t service-SUSTUHLJ-default/web/tcp/http ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade
add rule ip skiff-proxy-t service-SUSTUHLJ-default/web/tcp/http numgen random mod 2 vmap { 0 : goto endpoint-HKELN3NI-default/web/tcp/http__10.42.0.2/8000, 1 : goto endpoint-5ZTCFK2V-default/web/tcp/http__10.42.0.3/8000 }
add rule ip skiff-proxy-t external-SUSTUHLJ-default/web/tcp/http jump mark-for-masquerade
add rule ip skiff-proxy-t external-SUSTUHLJ-default/web/tcp/http goto service-SUSTUHLJ-default/web/tcp/http
add rule ip skiff-proxy-t endpoint-HKELN3NI-default/web/tcp/http__10.42.0.2/8000 ip saddr 10.42.0.2 jump mark-for-masquerade
add rule ip skiff-proxy-t endpoint-HKELN3NI-default/web/tcp/http__10.42.0.2/8000 meta l4proto tcp dnat to 10.42.0.2:8000
add rule ip skiff-proxy-t endpoint-5ZTCFK2V-default/web/tcp/http__10.42.0.3/8000 ip saddr 10.42.0.3 jump mark-for-masquerade
add rule ip skiff-proxy-t endpoint-5ZTCFK2V-default/web/tcp/http__10.42.0.3/8000 meta l4proto tcp dnat to 10.42.0.3:8000
add element ip skiff-proxy-t service-ips { 10.43.0.20 . tcp . 80 : goto service-SUSTUHLJ-default/web/tcp/http }
add element ip skiff-proxy-t service-ips { 192.0.2.10 . tcp . 80 : goto external-SUSTUHLJ-default/web/tcp/http }
add element ip skiff-proxy-t service-nodeports { tcp . 30080 : goto external-SUSTUHLJ-default/web/tcp/http }
add element ip skiff-proxy-t no-endpoint-services { 10.43.0.21 . tcp . 80 comment "default/empty" : goto reject-chain }
add element ip skiff-proxy-t cluster-ips { 10.43.0.21, 10.43.0.20 }
`;

describe('nftables ruleset', () => {
  test('golden: a LoadBalancer Service with two ready endpoints (a not-ready one left out) and a Service without endpoints', () => {
    const rs = buildRuleset(cfg, [
      { port: sp({ nodePort: 30080, loadBalancerIPs: ['192.0.2.10'] }), endpoints: [ep('10.42.0.2'), ep('10.42.0.3'), ep('10.42.0.4', { ready: false, serving: false })] },
      { port: sp({ service: 'empty', portName: '', clusterIP: '10.43.0.21' }), endpoints: [] },
    ]);
    const text = renderFull(cfg, rs);
    assert.ok(text.startsWith('add table ip skiff-proxy-t\ndelete table ip skiff-proxy-t\n'), 'replaces the table in one transaction');
    assert.equal(text.slice(text.indexOf('add chain ip skiff-proxy-t service-')), golden);
    for (const line of [
      'add rule ip skiff-proxy-t nat-prerouting iifname "skt0" jump services',
      'add rule ip skiff-proxy-t nat-output jump services',
      'add rule ip skiff-proxy-t filter-output ct state new jump endpoints-check',
      'add element ip skiff-proxy-t nodeport-ips { 192.0.2.10 }',
      'add rule ip skiff-proxy-t reject-chain reject',
      'add rule ip skiff-proxy-t masquerading masquerade fully-random',
      'add rule ip skiff-proxy-t filter-output-post-dnat ct state new jump cluster-ips-check',
      'add rule ip skiff-proxy-t cluster-ips-check ip daddr 10.43.0.0/16 fib daddr type != local reject comment "Reject traffic to unallocated ClusterIPs"',
    ])
      assert.ok(text.includes(line + '\n'), line);
    assert.ok(!text.includes('ct status dnat'), 'no same-bridge masquerade while br_netfilter is on');
    assert.ok(renderFull({ ...cfg, masqueradeSameBridge: true }, rs).includes('nat-postrouting iifname "skt0" oifname "skt0" ct status dnat jump mark-for-masquerade'));
  });

  test('ClientIP affinity: a timeout set per endpoint, checked before the random pick and refreshed on DNAT', () => {
    const rs = buildRuleset(cfg, [{ port: sp({ stickyMaxAgeSeconds: 10800 }), endpoints: [ep('10.42.0.2'), ep('10.42.0.3')] }]);
    const text = renderFull(cfg, rs);
    assert.match(text, /add set ip skiff-proxy-t affinity-\S+__10\.42\.0\.2\/8000 \{ type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; \}/);
    const svc = [...rs.chains].find(([n]) => n.startsWith('service-'))![1];
    assert.match(svc[1], /^ip saddr @affinity-\S+ goto endpoint-\S+$/);
    assert.match(svc[3], /^numgen random mod 2 vmap/);
    assert.ok([...rs.chains].some(([n, rules]) => n.startsWith('endpoint-') && rules.some((r) => /^update @affinity-\S+ \{ ip saddr \}$/.test(r))));
  });

  test('partial sync: scaling rewrites only the Service chain and adds the new endpoint chain; deleting the Service removes its chains and elements', () => {
    const before = buildRuleset(cfg, [
      { port: sp(), endpoints: [ep('10.42.0.2')] },
      { port: sp({ service: 'other', clusterIP: '10.43.0.30' }), endpoints: [ep('10.42.0.9')] },
    ]);
    const scaled = buildRuleset(cfg, [
      { port: sp(), endpoints: [ep('10.42.0.2'), ep('10.42.0.3')] },
      { port: sp({ service: 'other', clusterIP: '10.43.0.30' }), endpoints: [ep('10.42.0.9')] },
    ]);
    const tx = renderChanges(cfg, before, scaled);
    const lines = tx.trim().split('\n');
    assert.ok(lines.some((l) => /^add chain ip skiff-proxy-t endpoint-\S+__10\.42\.0\.3\/8000$/.test(l)));
    assert.ok(lines.some((l) => /^flush chain ip skiff-proxy-t service-\S+default\/web\//.test(l)));
    assert.ok(!tx.includes('default/other'), 'the unchanged Service is not touched');
    assert.ok(!tx.includes('add element'), 'the ClusterIP element already points at the Service chain');
    assert.equal(renderChanges(cfg, scaled, scaled), '', 'nothing changed, nothing to apply');

    const deleted = buildRuleset(cfg, [{ port: sp({ service: 'other', clusterIP: '10.43.0.30' }), endpoints: [ep('10.42.0.9')] }]);
    const del = renderChanges(cfg, scaled, deleted).trim().split('\n');
    assert.ok(del.includes('delete element ip skiff-proxy-t service-ips { 10.43.0.20 . tcp . 80 }'));
    assert.ok(del.includes('delete element ip skiff-proxy-t cluster-ips { 10.43.0.20 }'));
    assert.equal(del.filter((l) => l.startsWith('delete chain') && l.includes('default/web/')).length, 3);
    const firstDelete = del.findIndex((l) => l.startsWith('delete chain'));
    assert.ok(del.slice(firstDelete).every((l) => l.startsWith('delete chain')), 'chains go last, after nothing refers to them');
  });

  test('periodic resync rewrites in place: no table delete, chains flushed and refilled, stale ones deleted, affinity sets kept', () => {
    const prev = buildRuleset(cfg, [
      { port: sp({ stickyMaxAgeSeconds: 60 }), endpoints: [ep('10.42.0.2')] },
      { port: sp({ service: 'gone', clusterIP: '10.43.0.40' }), endpoints: [ep('10.42.0.9')] },
    ]);
    const next = buildRuleset(cfg, [{ port: sp({ stickyMaxAgeSeconds: 60 }), endpoints: [ep('10.42.0.2')] }]);
    const text = renderFull(cfg, next, prev);
    assert.ok(!text.includes('delete table'));
    assert.ok(text.includes('flush map ip skiff-proxy-t service-ips\n'));
    assert.ok(!/delete set \S+ affinity-/.test(text), 'the live affinity set survives');
    assert.match(text, /flush chain ip skiff-proxy-t service-\S+default\/web\//);
    assert.equal(text.split('\n').filter((l) => l.startsWith('delete chain') && l.includes('default/gone/')).length, 2);
  });

  test('loopback load-balancer IPs are left to the userspace path', () => {
    const rs = buildRuleset(cfg, [{ port: sp({ nodePort: 30080, loadBalancerIPs: ['127.0.0.5', '192.0.2.10'] }), endpoints: [ep('10.42.0.2')] }]);
    assert.deepEqual([...rs.maps['service-ips'].keys()].sort(), ['10.43.0.20 . tcp . 80', '192.0.2.10 . tcp . 80']);
    const fronts = userspaceFrontends([{ port: sp({ nodePort: 30080, loadBalancerIPs: ['127.0.0.5'] }), endpoints: [ep('10.42.0.2'), ep('10.42.0.3', { ready: false })] }], ['127.0.0.5']);
    assert.deepEqual(
      fronts.map((f) => `${f.protocol}:${f.ip}:${f.port}->${f.backends.map((b) => b.ip).join(',')}`),
      ['tcp:127.0.0.5:30080->10.42.0.2', 'tcp:127.0.0.5:80->10.42.0.2'],
    );
  });

  test('loadBalancerSourceRanges: a firewall chain for the load-balancer IPs, before DNAT', () => {
    const rs = buildRuleset(cfg, [{ port: sp({ nodePort: 30080, loadBalancerIPs: ['192.0.2.10'], loadBalancerSourceRanges: ['10.0.0.0/8', '192.0.2.0/24'] }), endpoints: [ep('10.42.0.2')] }]);
    const [name, rules] = [...rs.chains].find(([n]) => n.startsWith('firewall-'))!;
    // The node's own address is in a range: its load-balancer IP may talk to itself too.
    assert.deepEqual(rules, ['ip saddr != { 10.0.0.0/8, 192.0.2.0/24, 192.0.2.10 } drop']);
    assert.deepEqual([...rs.maps['firewall-ips']], [['192.0.2.10 . tcp . 80', { verdict: `goto ${name}`, comment: 'default/web:http' }]]);
    assert.ok(renderFull(cfg, rs).includes('add rule ip skiff-proxy-t filter-prerouting ct state new jump firewall-check\n'));
    const fronts = userspaceFrontends([{ port: sp({ nodePort: 30080, loadBalancerIPs: ['127.0.0.5'], loadBalancerSourceRanges: ['10.0.0.0/8'] }), endpoints: [ep('10.42.0.2')] }], ['127.0.0.5']);
    assert.deepEqual(fronts.map((f) => [f.port, f.sourceRanges]), [[30080, undefined], [80, ['10.0.0.0/8']]], 'NodePorts are not subject to the ranges');
  });

  test('no ready endpoints → reject; Local traffic policy without local endpoints → drop', () => {
    const none = buildRuleset(cfg, [{ port: sp({ nodePort: 30080 }), endpoints: [ep('10.42.0.2', { ready: false, serving: false })] }]);
    assert.deepEqual(none.maps['no-endpoint-services'].get('10.43.0.20 . tcp . 80'), { verdict: 'goto reject-chain', comment: 'default/web:http' });
    assert.equal(none.maps['no-endpoint-nodeports'].get('tcp . 30080')?.verdict, 'goto reject-chain');
    assert.equal(none.chains.size, 0);
    const local = buildRuleset(cfg, [{ port: sp({ nodePort: 30080, externalPolicyLocal: true }), endpoints: [ep('10.42.1.2', { local: false })] }]);
    assert.equal(local.maps['no-endpoint-nodeports'].get('tcp . 30080')?.verdict, 'drop');
    assert.equal(local.maps['service-ips'].get('10.43.0.20 . tcp . 80')?.verdict.startsWith('goto service-'), true, 'ClusterIP traffic still goes cluster-wide');
    const itp = buildRuleset(cfg, [{ port: sp({ internalPolicyLocal: true }), endpoints: [ep('10.42.1.2', { local: false })] }]);
    assert.equal(itp.maps['no-endpoint-services'].get('10.43.0.20 . tcp . 80')?.verdict, 'drop');
  });
});

describe('endpoints of a Service port', () => {
  const svc = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }], sessionAffinity: 'ClientIP' },
    status: { loadBalancer: { ingress: [{ ip: '127.0.0.2', ipMode: 'VIP' }, { ip: '127.0.0.9', ipMode: 'Proxy' }] } },
  };
  test('Service ports: LoadBalancer VIPs (not Proxy-mode ones), NodePort, default affinity timeout; skipped kinds', () => {
    const [p] = servicePortsOf(svc);
    assert.deepEqual(p.loadBalancerIPs, ['127.0.0.2']);
    assert.equal(p.nodePort, 30080);
    assert.equal(p.stickyMaxAgeSeconds, 10800);
    assert.deepEqual(servicePortsOf({ ...svc, metadata: { ...svc.metadata, annotations: { 'skiff.dev/node-local': 'true' } } }), []);
    assert.deepEqual(servicePortsOf({ ...svc, spec: { ...svc.spec, clusterIP: 'None' } }), []);
    assert.deepEqual(servicePortsOf({ ...svc, spec: { type: 'ExternalName', externalName: 'example.com' } }), []);
  });

  test('slices: matching port name and protocol, first address, dedup, conditions; terminating endpoints only when none is ready', () => {
    const [p] = servicePortsOf(svc);
    const slice = (endpoints: object[]) => ({ addressType: 'IPv4', ports: [{ name: 'http', port: 8000, protocol: 'TCP' }], endpoints });
    const eps = endpointsFor(p, [
      slice([
        { addresses: ['10.42.0.3'], conditions: { ready: true }, nodeName: 'n1' },
        { addresses: ['10.42.0.2'], conditions: { ready: false, serving: true, terminating: true }, nodeName: 'n2' },
      ]),
      slice([{ addresses: ['10.42.0.3'], conditions: { ready: true } }]),
      { addressType: 'IPv4', ports: [{ name: 'metrics', port: 9000, protocol: 'TCP' }], endpoints: [{ addresses: ['10.42.0.7'] }] },
    ], 'n1');
    assert.deepEqual(eps.map((e) => `${e.ip}:${e.port}:${e.local}`), ['10.42.0.2:8000:false', '10.42.0.3:8000:true']);
    assert.deepEqual(categorizeEndpoints(p, eps).cluster.map((e) => e.ip), ['10.42.0.3']);
    assert.deepEqual(categorizeEndpoints(p, eps.filter((e) => !e.ready)).cluster.map((e) => e.ip), ['10.42.0.2'], 'serving-terminating fallback');
  });
});
