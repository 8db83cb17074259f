/** @module service-lb-controller: LoadBalancer Services get their serving nodes' addresses as ingress, k3s ServiceLB style. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { ServiceLBController, desiredIngress, enableLBLabel } from './controller.js';

let env: ControllerTestEnv;
let ctrl: ServiceLBController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new ServiceLBController(env.ctx);
});
afterEach(async () => {
  await env.close();
});

async function node(name: string, ip: string, opts: { ready?: boolean; labels?: Record<string, string>; externalIP?: string } = {}): Promise<void> {
  const n = await env.client.create(Resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: opts.labels ?? {} } });
  n.status = {
    addresses: [{ type: 'InternalIP', address: ip }, ...(opts.externalIP ? [{ type: 'ExternalIP', address: opts.externalIP }] : []), { type: 'Hostname', address: name }],
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', reason: 'KubeletReady', message: 'ok', lastHeartbeatTime: '2025-03-01T12:00:00Z', lastTransitionTime: '2025-03-01T12:00:00Z' }],
  };
  await env.client.update(Resources.nodes, undefined, n, { subresource: 'status' });
}

async function service(name: string, spec: KObject): Promise<void> {
  await env.client.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80, targetPort: 8000 }], selector: { app: name }, ...spec } });
}

const ingressOf = async (name: string) => (await env.get(Resources.services, name))?.status?.loadBalancer?.ingress;

describe('service-lb-controller', () => {
  test('fills status.loadBalancer.ingress with the InternalIPs of Ready, non-hollow nodes (sorted, ipMode VIP) and records an event', async () => {
    await node('b', '127.0.0.3');
    await node('a', '127.0.0.2');
    await node('down', '127.0.0.4', { ready: false });
    await node('hollow-node-1', '10.42.1.1', { labels: { 'node.kubernetes.io/instance-type': 'hollow' } });
    await service('web', { type: 'LoadBalancer' });
    await env.refresh();
    await ctrl.sync('default/web');
    assert.deepEqual(await ingressOf('web'), [
      { ip: '127.0.0.2', ipMode: 'VIP' },
      { ip: '127.0.0.3', ipMode: 'VIP' },
    ]);
    assert.ok((await env.events()).some((e) => e.includes('UpdatedLoadBalancer') && e.includes('Updated LoadBalancer with new IPs: [] -> [127.0.0.2 127.0.0.3]')), String(await env.events()));
  });

  test('leaves other load-balancer classes and non-LoadBalancer Services alone; clears the status when the type changes', async () => {
    await node('a', '127.0.0.2');
    await service('other', { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' });
    await service('plain', { type: 'ClusterIP' });
    await service('web', { type: 'LoadBalancer' });
    await env.refresh();
    for (const k of ['other', 'plain', 'web']) await ctrl.sync(`default/${k}`);
    assert.equal(await ingressOf('other'), undefined);
    assert.equal(await ingressOf('plain'), undefined);
    assert.equal((await ingressOf('web'))?.length, 1);

    const svc = (await env.get(Resources.services, 'web'))!;
    svc.spec.type = 'ClusterIP';
    for (const p of svc.spec.ports) delete p.nodePort;
    delete svc.spec.externalTrafficPolicy;
    delete svc.spec.allocateLoadBalancerNodePorts;
    await env.client.update(Resources.services, 'default', svc);
    await env.refresh();
    await ctrl.sync('default/web');
    assert.equal(await ingressOf('web'), undefined);
  });

  test('prefers ExternalIPs, follows the enablelb label and node readiness', async () => {
    await node('a', '127.0.0.2');
    await node('b', '127.0.0.3', { externalIP: '198.51.100.7' });
    await service('web', { type: 'LoadBalancer' });
    await env.refresh();
    await ctrl.sync('default/web');
    assert.deepEqual(await ingressOf('web'), [{ ip: '198.51.100.7', ipMode: 'VIP' }]);

    const nodes = [
      { metadata: { name: 'a', labels: { [enableLBLabel]: 'true' } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.2' }], conditions: [{ type: 'Ready', status: 'True' }] } },
      { metadata: { name: 'b', labels: { [enableLBLabel]: 'false' } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.3' }], conditions: [{ type: 'Ready', status: 'True' }] } },
    ];
    assert.deepEqual(desiredIngress({ spec: { type: 'LoadBalancer' } }, nodes, []), [{ ip: '127.0.0.2', ipMode: 'VIP' }]);
  });

  test('externalTrafficPolicy Local lists only nodes with a ready endpoint', () => {
    const nodes = ['a', 'b'].map((n, i) => ({ metadata: { name: n }, status: { addresses: [{ type: 'InternalIP', address: `127.0.0.${i + 2}` }], conditions: [{ type: 'Ready', status: 'True' }] } }));
    const slice = { endpoints: [{ addresses: ['10.42.0.5'], conditions: { ready: true }, nodeName: 'b', targetRef: { kind: 'Pod', name: 'p' } }] };
    assert.deepEqual(desiredIngress({ spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local' } }, nodes, [slice]), [{ ip: '127.0.0.3', ipMode: 'VIP' }]);
    assert.deepEqual(desiredIngress({ spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' } }, nodes, [slice]).length, 2);
  });
});
