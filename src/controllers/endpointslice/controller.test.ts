/**
 * @module EndpointSlice controller decisions against the real REST pipeline (and the pure
 * reconciler for the large cases): slice identity, labels and ownership, endpoint
 * conditions, placeholders and their reuse, port-set grouping, 100 endpoints per slice,
 * stale caches, pods on unknown nodes, and one run() over live informers.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv, poll } from '../common/test-env.js';
import { EndpointSliceController } from './controller.js';
import { reconcileEndpointSlices } from './reconciler.js';
import { StaleInformerCacheError } from './tracker.js';

let nextClusterIP = 10;
/** The unit-test API server allocates no cluster IPs: give each Service one, as the allocator would. */
async function service(env: ControllerTestEnv, name: string, spec: KObject, labels?: Record<string, string>): Promise<KObject> {
  const withIP = spec.clusterIP ? spec : { ...spec, clusterIP: `10.43.0.${nextClusterIP++}`, ipFamilies: ['IPv4'] };
  return env.client.create(Resources.services, 'default', { metadata: { name, ...(labels ? { labels } : {}) }, spec: withIP });
}

async function slicesOf(env: ControllerTestEnv, svc: string): Promise<KObject[]> {
  return env.list(Resources.endpointslices, 'default', `kubernetes.io/service-name=${svc}`);
}

const addresses = (slices: KObject[]) => slices.flatMap((s) => (s.endpoints ?? []).map((e: KObject) => e.addresses[0])).sort();

describe('endpointslice controller', () => {
  let env: ControllerTestEnv;
  let sc: EndpointSliceController;
  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    sc = new EndpointSliceController(env.ctx);
    for (const [name, zone] of [['node-a', 'zone-1'], ['node-b', 'zone-2']])
      await env.client.create(Resources.nodes, undefined, { metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } } });
    await env.refresh();
  });
  afterEach(async () => {
    await env.close();
  });

  test('a Service selecting two ready pods gets one slice naming both', async () => {
    const svc = await service(env, 'api', { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8000 }] }, { tier: 'backend' });
    const a = await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5', node: 'node-a' });
    await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.1.7', node: 'node-b' });
    await env.refresh();
    await sc.sync('default/api');
    const slices = await slicesOf(env, 'api');
    assert.equal(slices.length, 1);
    const [slice] = slices;
    assert.match(slice.metadata!.name!, /^api-[a-z0-9]{5}$/);
    assert.deepEqual(slice.metadata!.labels, {
      tier: 'backend',
      'kubernetes.io/service-name': 'api',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
    assert.deepEqual(slice.metadata!.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'api', uid: svc.metadata!.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8000, protocol: 'TCP' }]);
    const epA = (slice.endpoints as KObject[]).find((e) => e.addresses[0] === '10.42.0.5');
    assert.deepEqual(epA, {
      addresses: ['10.42.0.5'],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name: 'api-a', uid: a.metadata!.uid },
      nodeName: 'node-a',
      zone: 'zone-1',
    });
    assert.deepEqual(addresses(slices), ['10.42.0.5', '10.42.1.7']);
    assert.equal(slice.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], svc.metadata!.creationTimestamp);
  });

  test('conditions: not ready, terminating, and published not-ready pods', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await service(env, 'peers', { selector: { app: 'api' }, ports: [{ port: 80 }], publishNotReadyAddresses: true });
    await env.runningPod('warming', { app: 'api' }, { ip: '10.42.0.5', ready: false });
    await env.runningPod('leaving', { app: 'api' }, { ip: '10.42.0.6' });
    await env.client.delete(Resources.pods, 'default', 'leaving');
    await env.refresh();
    await sc.sync('default/api');
    await sc.sync('default/peers');
    const cond = (slices: KObject[], ip: string) => (slices[0].endpoints as KObject[]).find((e) => e.addresses[0] === ip)?.conditions;
    const api = await slicesOf(env, 'api');
    assert.deepEqual(cond(api, '10.42.0.5'), { ready: false, serving: false, terminating: false });
    assert.deepEqual(cond(api, '10.42.0.6'), { ready: false, serving: true, terminating: true });
    const peers = await slicesOf(env, 'peers');
    assert.deepEqual(cond(peers, '10.42.0.5'), { ready: true, serving: false, terminating: false });
    assert.deepEqual(cond(peers, '10.42.0.6'), { ready: true, serving: true, terminating: true });
  });

  test('a selector matching nothing keeps one placeholder slice, reused once pods arrive', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.refresh();
    await sc.sync('default/api');
    await env.refresh();
    let slices = await slicesOf(env, 'api');
    assert.equal(slices.length, 1);
    assert.deepEqual(slices[0].endpoints, []);
    assert.deepEqual(slices[0].ports, []);
    const placeholder = slices[0];

    await sc.sync('default/api');
    assert.equal((await slicesOf(env, 'api'))[0].metadata!.resourceVersion, placeholder.metadata!.resourceVersion, 'a placeholder is not rewritten');

    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.refresh();
    await sc.sync('default/api');
    slices = await slicesOf(env, 'api');
    assert.equal(slices.length, 1);
    assert.equal(slices[0].metadata!.name, placeholder.metadata!.name, 'the placeholder becomes the real slice');
    assert.deepEqual(addresses(slices), ['10.42.0.5']);
  });

  test('pods resolving a named port differently land in different slices', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'web' }] });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5', ports: [{ name: 'web', containerPort: 8080 }] });
    await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.0.6', ports: [{ name: 'web', containerPort: 9090 }] });
    await env.refresh();
    await sc.sync('default/api');
    const slices = await slicesOf(env, 'api');
    const byPort = Object.fromEntries(slices.map((s) => [s.ports[0]?.port ?? 'none', addresses([s])]));
    assert.deepEqual(byPort, { 8080: ['10.42.0.5'], 9090: ['10.42.0.6'] });
  });

  test('a Service without a selector gets no slices', async () => {
    await service(env, 'external', { ports: [{ port: 5432 }] });
    await env.refresh();
    await sc.sync('default/external');
    assert.deepEqual(await slicesOf(env, 'external'), []);
  });

  test('a cache that has not seen our own write makes the sync retry instead of duplicating', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.refresh();
    await sc.sync('default/api');
    await assert.rejects(sc.sync('default/api'), StaleInformerCacheError);
    await env.refresh();
    await sc.sync('default/api');
    assert.equal((await slicesOf(env, 'api')).length, 1);
  });

  test('a pod on an unknown node is left out and the Service retried', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.runningPod('api-x', { app: 'api' }, { ip: '10.42.9.9', node: 'node-gone' });
    await env.refresh();
    await assert.rejects(sc.sync('default/api'), /skipping Pod api-x for Service default\/api: Node node-gone Not Found/);
    assert.deepEqual(addresses(await slicesOf(env, 'api')), ['10.42.0.5']);
  });

  test('Service label changes reach its slices', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] }, { v: '1' });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.refresh();
    await sc.sync('default/api');
    await env.client.patch(Resources.services, 'default', 'api', 'merge', { metadata: { labels: { v: '2' } } });
    await env.refresh();
    await sc.sync('default/api');
    const [slice] = await slicesOf(env, 'api');
    assert.equal(slice.metadata!.labels!.v, '2');
  });
});

describe('reconcileEndpointSlices', () => {
  const svc: KObject = {
    metadata: { name: 'big', namespace: 'default', uid: 'svc-uid' },
    spec: { clusterIP: '10.43.0.99', ipFamilies: ['IPv4'], selector: { app: 'big' }, ports: [{ name: '', port: 80, targetPort: 80, protocol: 'TCP' }] },
  };
  const pod = (i: number): KObject => ({
    metadata: { name: `big-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'big' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'c' }] },
    status: { phase: 'Running', podIP: `10.42.${Math.floor(i / 200)}.${i % 200}`, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const node = () => ({ metadata: { name: 'node-a' } });

  test('250 endpoints fill three slices of at most 100', () => {
    const plan = reconcileEndpointSlices({ service: svc, pods: Array.from({ length: 250 }, (_, i) => pod(i)), existing: [], node, maxEndpointsPerSlice: 100 });
    assert.deepEqual(plan.create.map((s) => s.endpoints.length).sort(), [100, 100, 50]);
    assert.equal(plan.update.length + plan.delete.length, 0);
  });

  test('removing pods rewrites only the slices that held them', () => {
    const first = reconcileEndpointSlices({ service: svc, pods: Array.from({ length: 250 }, (_, i) => pod(i)), existing: [], node, maxEndpointsPerSlice: 100 });
    const existing: KObject[] = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `big-${i}`, uid: `slice-${i}` } }));
    const gone = new Set((existing[0].endpoints as KObject[]).slice(0, 10).map((e) => e.targetRef.name));
    const pods = Array.from({ length: 250 }, (_, i) => pod(i)).filter((p) => !gone.has(p.metadata!.name));
    const plan = reconcileEndpointSlices({ service: svc, pods, existing, node, maxEndpointsPerSlice: 100 });
    assert.deepEqual(plan.update.map((s) => s.metadata!.name), ['big-0']);
    assert.equal(plan.update[0].endpoints.length, existing[0].endpoints.length - 10);
    assert.equal(plan.create.length + plan.delete.length, 0);
  });
});

describe('endpointslice controller run()', () => {
  test('with live informers, slices follow the pods', async () => {
    const env = await ControllerTestEnv.create();
    const ac = new AbortController();
    try {
      await env.client.create(Resources.nodes, undefined, { metadata: { name: 'node-a' } });
      const sc = new EndpointSliceController(env.ctx);
      env.informers.start(ac.signal);
      const running = sc.run(ac.signal, 2);
      await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8000 }] });
      await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
      await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.0.6' });
      await poll(async () => addresses(await slicesOf(env, 'api')).length === 2, 'two endpoints');
      await env.client.delete(Resources.pods, 'default', 'api-a', { gracePeriodSeconds: 0 });
      await poll(async () => addresses(await slicesOf(env, 'api')).join() === '10.42.0.6', 'one endpoint left');
      assert.equal((await slicesOf(env, 'api')).length, 1);
      ac.abort();
      await running;
    } finally {
      ac.abort();
      await env.close();
    }
  });
});
