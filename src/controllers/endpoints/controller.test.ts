/**
 * @module Endpoints controller decisions against the real REST pipeline: ready and
 * not-ready addresses, targetPort resolution (numbers and named container ports),
 * publishNotReadyAddresses, skipped pods, Services without selectors, cleanup after a
 * Service goes, no-op syncs, headless labels, repacking and truncation.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { EndpointsController, repackSubsets, truncateSubsets, type EndpointSubset } from './controller.js';

let nextClusterIP = 10;
/** The unit-test API server allocates no cluster IPs: give each Service one, as the allocator would. */
async function service(env: ControllerTestEnv, name: string, spec: KObject, labels?: Record<string, string>): Promise<KObject> {
  const withIP = spec.clusterIP ? spec : { ...spec, clusterIP: `10.43.0.${nextClusterIP++}` };
  return env.client.create(Resources.services, 'default', { metadata: { name, ...(labels ? { labels } : {}) }, spec: withIP });
}

const ips = (list: KObject[] | undefined) => (list ?? []).map((a) => a.ip);

describe('endpoints controller', () => {
  let env: ControllerTestEnv;
  let ec: EndpointsController;
  beforeEach(async () => {
    env = await ControllerTestEnv.create();
    ec = new EndpointsController(env.ctx);
    await env.refresh();
  });
  afterEach(async () => {
    await env.close();
  });

  test('ready pods become addresses with their node and target, on the resolved port', async () => {
    const svc = await service(env, 'api', { selector: { app: 'api' }, ports: [{ name: 'http', port: 80, targetPort: 8000 }] }, { tier: 'backend' });
    const b = await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.1.7', node: 'node-b' });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5', node: 'node-a' });
    await env.runningPod('other', { app: 'other' }, { ip: '10.42.0.9' });
    await env.refresh();
    await ec.sync('default/api');
    const ep = await env.get(Resources.endpoints, 'api');
    assert.ok(ep);
    assert.deepEqual(ep.metadata!.labels, { tier: 'backend' });
    assert.equal(ep.subsets.length, 1);
    assert.deepEqual(ips(ep.subsets[0].addresses), ['10.42.0.5', '10.42.1.7']);
    assert.equal(ep.subsets[0].notReadyAddresses, undefined);
    assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', port: 8000, protocol: 'TCP' }]);
    assert.deepEqual(ep.subsets[0].addresses[1], {
      ip: '10.42.1.7',
      nodeName: 'node-b',
      targetRef: { kind: 'Pod', namespace: 'default', name: 'api-b', uid: b.metadata!.uid },
    });
    assert.equal(ep.metadata!.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], svc.metadata!.creationTimestamp);
  });

  test('named target ports are looked up in each pod, so pods with different numbers get different subsets', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 'web' }] });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5', ports: [{ name: 'web', containerPort: 8080 }] });
    await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.0.6', ports: [{ name: 'web', containerPort: 9090 }] });
    await env.runningPod('api-c', { app: 'api' }, { ip: '10.42.0.7', ports: [{ name: 'metrics', containerPort: 9100 }] });
    await env.refresh();
    await ec.sync('default/api');
    const ep = await env.get(Resources.endpoints, 'api');
    const byPort = Object.fromEntries((ep!.subsets as KObject[]).map((ss) => [ss.ports[0].port, ips(ss.addresses)]));
    assert.deepEqual(byPort, { 8080: ['10.42.0.5'], 9090: ['10.42.0.6'] }, 'a pod without the named port is left out');
  });

  test('pods that are not ready are notReadyAddresses, unless the Service publishes not-ready addresses', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8000 }] });
    await service(env, 'peers', { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 8000 }], publishNotReadyAddresses: true });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.runningPod('api-b', { app: 'api' }, { ip: '10.42.0.6', ready: false });
    await env.refresh();
    await ec.sync('default/api');
    await ec.sync('default/peers');
    const api = await env.get(Resources.endpoints, 'api');
    assert.deepEqual(ips(api!.subsets[0].addresses), ['10.42.0.5']);
    assert.deepEqual(ips(api!.subsets[0].notReadyAddresses), ['10.42.0.6']);
    const peers = await env.get(Resources.endpoints, 'peers');
    assert.deepEqual(ips(peers!.subsets[0].addresses), ['10.42.0.5', '10.42.0.6']);
  });

  test('pods without an IP, finished pods and terminating pods are left out', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.client.create(Resources.pods, 'default', { metadata: { name: 'pending', labels: { app: 'api' } }, spec: { containers: [{ name: 'a', image: 'x' }] } });
    const done = await env.runningPod('done', { app: 'api' }, { ip: '10.42.0.8' });
    await env.client.update(Resources.pods, 'default', { ...done, status: { ...done.status, phase: 'Succeeded' } }, { subresource: 'status' });
    await env.runningPod('leaving', { app: 'api' }, { ip: '10.42.0.9' });
    await env.client.delete(Resources.pods, 'default', 'leaving');
    await env.runningPod('ok', { app: 'api' }, { ip: '10.42.0.10' });
    await env.refresh();
    await ec.sync('default/api');
    const ep = await env.get(Resources.endpoints, 'api');
    assert.deepEqual(ips(ep!.subsets[0].addresses), ['10.42.0.10']);
    assert.equal(ep!.subsets[0].notReadyAddresses, undefined);
  });

  test('a selector matching nothing gives Endpoints without subsets', async () => {
    await service(env, 'lonely', { selector: { app: 'nothing' }, ports: [{ port: 80 }] });
    await env.refresh();
    await ec.sync('default/lonely');
    const ep = await env.get(Resources.endpoints, 'lonely');
    assert.ok(ep);
    assert.equal(ep.subsets, undefined);
  });

  test('a Service without a selector is left alone, and so are its hand-made Endpoints', async () => {
    await service(env, 'external', { ports: [{ port: 5432 }] });
    await env.client.create(Resources.endpoints, 'default', { metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] });
    await env.refresh();
    const before = await env.get(Resources.endpoints, 'external');
    await ec.sync('default/external');
    const after = await env.get(Resources.endpoints, 'external');
    assert.equal(after!.metadata!.resourceVersion, before!.metadata!.resourceVersion);
  });

  test('the Endpoints of a deleted Service are deleted', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.refresh();
    await ec.sync('default/api');
    assert.ok(await env.get(Resources.endpoints, 'api'));
    await env.client.delete(Resources.services, 'default', 'api');
    await env.refresh();
    await ec.sync('default/api');
    assert.equal(await env.get(Resources.endpoints, 'api'), undefined);
  });

  test('a sync with nothing new writes nothing', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await env.runningPod('api-a', { app: 'api' }, { ip: '10.42.0.5' });
    await env.refresh();
    await ec.sync('default/api');
    await env.refresh();
    const first = await env.get(Resources.endpoints, 'api');
    await ec.sync('default/api');
    const second = await env.get(Resources.endpoints, 'api');
    assert.equal(second!.metadata!.resourceVersion, first!.metadata!.resourceVersion);
  });

  test('a headless Service labels its Endpoints and may publish addresses without ports', async () => {
    await service(env, 'db', { clusterIP: 'None', selector: { app: 'db' } });
    await env.runningPod('db-0', { app: 'db' }, { ip: '10.42.0.5' });
    await env.refresh();
    await ec.sync('default/db');
    const ep = await env.get(Resources.endpoints, 'db');
    assert.deepEqual(ep!.metadata!.labels, { 'service.kubernetes.io/headless': '' });
    assert.deepEqual(ep!.subsets, [{ addresses: [ep!.subsets[0].addresses[0]] }]);
    assert.equal(ep!.subsets[0].addresses[0].ip, '10.42.0.5');
  });

  test('pod changes enqueue the Services that select the pod, old labels and new', async () => {
    await service(env, 'api', { selector: { app: 'api' }, ports: [{ port: 80 }] });
    await service(env, 'web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    await env.refresh();
    while (ec.queue.len() > 0) ec.queue.done((await ec.queue.get())!);
    const pod = await env.runningPod('p', { app: 'api' }, { ip: '10.42.0.5' });
    await env.refresh();
    const seen = new Set<string>();
    while (ec.queue.len() > 0) {
      const k = (await ec.queue.get())!;
      seen.add(k);
      ec.queue.done(k);
    }
    assert.deepEqual([...seen], ['default/api']);
    await env.client.patch(Resources.pods, 'default', pod.metadata!.name!, 'merge', { metadata: { labels: { app: 'web' } } });
    await env.refresh();
    seen.clear();
    while (ec.queue.len() > 0) {
      const k = (await ec.queue.get())!;
      seen.add(k);
      ec.queue.done(k);
    }
    assert.deepEqual([...seen].sort(), ['default/api', 'default/web']);
  });
});

describe('repackSubsets and truncateSubsets', () => {
  const addr = (ip: string, uid = ip) => ({ ip, targetRef: { kind: 'Pod', uid } });
  test('addresses sharing the same ports share a subset; not ready on any port wins', () => {
    const http = { name: 'http', port: 80, protocol: 'TCP' };
    const dns = { name: 'dns', port: 53, protocol: 'UDP' };
    const out = repackSubsets([
      { addresses: [addr('10.0.0.2')], ports: [http] },
      { addresses: [addr('10.0.0.1')], ports: [http] },
      { addresses: [addr('10.0.0.1')], ports: [dns] },
      { notReadyAddresses: [addr('10.0.0.2')], ports: [dns] },
    ]);
    const http80 = out.find((s) => s.ports!.some((p) => p.port === 80))!;
    assert.deepEqual(http80.addresses!.map((a) => a.ip), ['10.0.0.1', '10.0.0.2']);
    const dns53 = out.find((s) => s.ports!.some((p) => p.port === 53))!;
    assert.deepEqual(dns53.addresses!.map((a) => a.ip), ['10.0.0.1']);
    assert.deepEqual(dns53.notReadyAddresses!.map((a) => a.ip), ['10.0.0.2']);
  });

  test('more than 1000 addresses are cut to 1000, ready ones kept first', () => {
    const ready = Array.from({ length: 900 }, (_, i) => addr(`10.1.${Math.floor(i / 250)}.${i % 250}`));
    const notReady = Array.from({ length: 300 }, (_, i) => addr(`10.2.${Math.floor(i / 250)}.${i % 250}`));
    const subsets: EndpointSubset[] = [{ addresses: ready, notReadyAddresses: notReady, ports: [{ port: 80, protocol: 'TCP' }] }];
    assert.equal(truncateSubsets(subsets), true);
    assert.equal(subsets[0].addresses!.length, 900);
    assert.equal(subsets[0].notReadyAddresses!.length, 100);
    assert.equal(truncateSubsets([{ addresses: ready.slice(0, 10), ports: [] }]), false);
  });
});
