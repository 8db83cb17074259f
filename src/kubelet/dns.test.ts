/** @module kubelet's pod DNS configuration for every dnsPolicy. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatResolvConf, parseResolvConf, podDNSConfig } from './dns.js';

const node = {
  clusterDNS: ['10.43.0.10'],
  clusterDomain: 'cluster.local',
  hostResolvConf: '# host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example\noptions edns0 timeout:2\n',
};

describe('pod DNS config', () => {
  test('ClusterFirst: cluster DNS, the namespace search path before the node’s, ndots:5', () => {
    const text = formatResolvConf(podDNSConfig({ namespace: 'shop' }, node));
    assert.equal(text, 'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\nnameserver 10.43.0.10\noptions ndots:5\n');
  });

  test('Default and host-network ClusterFirst take the node’s resolv.conf; ClusterFirstWithHostNet the cluster’s', () => {
    const host = { servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example'], options: ['edns0', 'timeout:2'] };
    assert.deepEqual(podDNSConfig({ namespace: 'a', dnsPolicy: 'Default' }, node), host);
    assert.deepEqual(podDNSConfig({ namespace: 'a', hostNetwork: true }, node), host);
    assert.deepEqual(podDNSConfig({ namespace: 'a', hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, node).servers, ['10.43.0.10']);
  });

  test('None uses dnsConfig only; dnsConfig merges into the others with duplicates dropped and options overridden', () => {
    const none = podDNSConfig(
      { namespace: 'a', dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['x.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
      node,
    );
    assert.equal(formatResolvConf(none), 'search x.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n');
    const merged = podDNSConfig(
      { namespace: 'a', dnsConfig: { nameservers: ['10.43.0.10', '1.1.1.1'], searches: ['cluster.local', 'y.example'], options: [{ name: 'ndots', value: '1' }, { name: 'single-request-reopen' }] } },
      node,
    );
    assert.deepEqual(merged.servers, ['10.43.0.10', '1.1.1.1']);
    assert.deepEqual(merged.searches, ['a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'y.example']);
    assert.deepEqual(merged.options, ['ndots:1', 'single-request-reopen']);
  });

  test('kubelet’s limits: three nameservers, 32 search paths', () => {
    const cfg = podDNSConfig(
      { namespace: 'a', dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'], searches: Array.from({ length: 40 }, (_, i) => `s${i}.example`) } },
      node,
    );
    assert.deepEqual(cfg.servers, ['10.43.0.10', '1.1.1.1', '2.2.2.2']);
    assert.equal(cfg.searches.length, 32);
  });

  test('without --cluster-dns ClusterFirst falls back to the node’s settings', () => {
    assert.deepEqual(podDNSConfig({ namespace: 'a' }, { ...node, clusterDNS: [] }).servers, ['192.0.2.53', '192.0.2.54']);
    assert.deepEqual(parseResolvConf('search a b\nsearch c\n').searches, ['c']);
  });
});
