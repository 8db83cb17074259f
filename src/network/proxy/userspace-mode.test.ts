/**
 * @module The service proxy without privileges (no root needed): it says it runs in userspace,
 * serves a NodePort and a LoadBalancer port on the node's loopback address from the Services
 * and EndpointSlices in its informers, follows endpoint changes, and closes the port
 * (connection refused) when no endpoint is ready. The informers are filled by hand: the API
 * refuses loopback endpoint addresses, and these backends listen on loopback.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { KObject } from '../../api/types.js';
import { InformerFactory, Resources, type Client } from '../../client/index.js';
import { eventually } from '../../client/testing.js';
import { startServiceProxy, type ServiceProxy } from './index.js';

function get(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path: '/', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('service proxy in userspace mode', () => {
  let proxy: ServiceProxy;
  const logs: Array<Record<string, unknown>> = [];
  const abort = new AbortController();
  const backends: Array<{ server: Server; port: number }> = [];
  let informers: InformerFactory;
  // A loopback address of its own, so parallel suites never share a port.
  const nodeIP = `127.0.${1 + randomInt(250)}.${2 + randomInt(250)}`;
  const nodePort = 30000 + randomInt(2700);
  const lbPort = 20000 + randomInt(5000);

  let sliceVersion = 0;
  const putSlice = (ports: number[]) =>
    informers.for(Resources.endpointslices).seed([
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-abcde', namespace: 'default', resourceVersion: String(++sliceVersion), labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: ports[0] ?? 1, protocol: 'TCP' }],
        endpoints: ports.length ? [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] : [],
      },
    ]);

  before(async () => {
    for (const name of ['one', 'two']) {
      const s = createServer((_q, r) => r.end(name));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      backends.push({ server: s, port: (s.address() as AddressInfo).port });
    }
    // Never started: the test is the API server.
    const client = {} as Client;
    informers = new InformerFactory(client);
    proxy = await startServiceProxy({
      client,
      informers,
      nodeName: 'node-1',
      podCIDR: '10.42.0.0/24',
      nodeIP,
      bridge: 'skiff-none',
      clusterCIDR: '10.42.0.0/16',
      serviceCIDR: '10.43.0.0/16',
      clusterDNS: '10.43.0.10',
      clusterDomain: 'cluster.local',
      privileged: false,
      signal: abort.signal,
      log: (m) => logs.push(m),
      minSyncPeriodMs: 20,
    });
    informers.for(Resources.services).seed([]);
    informers.for(Resources.endpointslices).seed([]);
  });

  after(async () => {
    abort.abort();
    await proxy?.stop();
    for (const b of backends) b.server.close();
  });

  it('says ClusterIPs are unreachable without privileges', () => {
    assert.equal(proxy.mode, 'userspace');
    assert.ok(logs.some((l) => l.level === 'warn' && /userspace mode.*ClusterIPs are not reachable/.test(String(l.msg))), JSON.stringify(logs));
  });

  it('serves the NodePort and the load-balancer port on the node address, following endpoint changes', async () => {
    const svc: KObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
      spec: { type: 'LoadBalancer', clusterIP: '10.43.0.50', ports: [{ name: 'http', port: lbPort, targetPort: 8000, nodePort, protocol: 'TCP' }], selector: { app: 'web' } },
      status: { loadBalancer: { ingress: [{ ip: nodeIP, ipMode: 'VIP' }] } },
    };
    informers.for(Resources.services).seed([svc]);
    putSlice([backends[0].port]);
    assert.equal(await eventually(() => get(nodeIP, nodePort).catch(() => undefined), 'NodePort served', 10_000, 20), 'one');
    assert.equal(await eventually(() => get(nodeIP, lbPort).catch(() => undefined), 'LoadBalancer port served', 10_000, 20), 'one');
    putSlice([backends[1].port]);
    assert.equal(await eventually(async () => ((await get(nodeIP, nodePort)) === 'two' ? 'two' : undefined), 'new endpoint', 10_000, 20), 'two');
    assert.deepEqual(proxy.userspaceFrontends(), [`tcp:${nodeIP}:${lbPort}`, `tcp:${nodeIP}:${nodePort}`].sort());
  });

  it('no ready endpoint: the port is closed, connections refused at once', async () => {
    putSlice([]);
    await eventually(() => proxy.userspaceFrontends().length === 0, 'listeners closed', 10_000, 20);
    await assert.rejects(get(nodeIP, nodePort), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  });
});
