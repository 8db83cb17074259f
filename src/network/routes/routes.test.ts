import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Informer, Resources, type Client } from '../../client/index.js';
import { desiredPodRoutes, PodRouter } from './routes.js';

const node = (name: string, ip: string | undefined, podCIDR?: string): KObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, resourceVersion: String(Math.random()) },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  status: { addresses: ip ? [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] : [] },
});

const self = { nodeName: 'a', nodeIP: '172.31.9.2', clusterCIDR: '10.42.0.0/16' };

test('a route per other node with a pod CIDR and a usable InternalIP', () => {
  const routes = desiredPodRoutes(
    [
      node('a', '172.31.9.2', '10.42.1.0/24'),
      node('b', '172.31.9.3', '10.42.2.0/24'),
      node('no-cidr', '172.31.9.4'),
      node('no-ip', undefined, '10.42.4.0/24'),
      node('loopback', '127.0.0.1', '10.42.0.0/24'),
      node('same-host', '172.31.9.2', '10.42.5.0/24'),
      node('hollow-node-7', '10.42.7.1', '10.42.7.0/24'),
    ],
    self,
  );
  assert.deepEqual(routes, [{ cidr: '10.42.2.0/24', via: '172.31.9.3', node: 'b' }]);
});

test('the router adds, moves and removes routes as Nodes change, and removes its own on stop', async () => {
  const calls: string[] = [];
  const inf = new Informer({} as Client, Resources.nodes);
  const router = new PodRouter({ nodes: inf, ...self, log: () => {}, ip: async (args) => (calls.push(args.join(' ')), '') });
  inf.seed([node('a', '172.31.9.2', '10.42.1.0/24'), node('b', '172.31.9.3', '10.42.2.0/24'), node('c', '172.31.9.4', '10.42.3.0/24')]);
  await router.reconcile();
  assert.deepEqual(calls.splice(0), ['route replace 10.42.2.0/24 via 172.31.9.3', 'route replace 10.42.3.0/24 via 172.31.9.4']);
  inf.seed([node('b', '172.31.9.5', '10.42.2.0/24')]);
  await router.reconcile();
  assert.deepEqual(calls.splice(0), ['route replace 10.42.2.0/24 via 172.31.9.5'], 'a moved node is re-routed');
  inf.unseed(inf.getByName(undefined, 'c')!);
  await router.reconcile();
  assert.deepEqual(calls.splice(0), ['route del 10.42.3.0/24 via 172.31.9.4']);
  await router.reconcile();
  assert.deepEqual(calls, [], 'nothing to do twice');
  await router.stop();
  assert.deepEqual(calls.splice(0), ['route del 10.42.2.0/24 via 172.31.9.5']);
  assert.deepEqual(router.routes(), []);
});

test('a next hop the kernel refuses is reported and retried on the next change', async () => {
  const logs: Array<Record<string, unknown>> = [];
  let fail = true;
  const inf = new Informer({} as Client, Resources.nodes);
  const router = new PodRouter({ nodes: inf, ...self, log: (m) => logs.push(m), ip: async () => { if (fail) throw new Error('Nexthop has invalid gateway'); return ''; } });
  inf.seed([node('b', '192.0.2.99', '10.42.2.0/24')]);
  await router.reconcile();
  await router.reconcile();
  assert.equal(logs.filter((l) => l.level === 'warn').length, 1, 'logged once');
  assert.deepEqual(router.routes(), []);
  fail = false;
  await router.reconcile();
  assert.deepEqual(router.routes().map((r) => r.cidr), ['10.42.2.0/24']);
});
