/** @module The Service ClusterIP/NodePort allocators through the REST pipeline, as kube-apiserver allocates. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ApiError } from '../api/errors.js';
import { allResources } from '../api/kinds/index.js';
import type { KObject } from '../api/types.js';
import { openStore, type Store } from '../storage/store.js';
import '../storage/sqlite/index.js';
import { ResourceRegistry } from './registry.js';
import { RestStorage, type WriteContext } from './rest.js';
import { ServiceAllocator } from './service-alloc.js';

const registry = new ResourceRegistry(allResources);
const services = registry.lookup('', 'v1', 'services')!;
const namespaces = registry.lookup('', 'v1', 'namespaces')!;
const stores: Store[] = [];
after(async () => {
  for (const s of stores) await s.close();
});

interface Api {
  store: Store;
  rest: RestStorage;
  alloc: ServiceAllocator;
}

function ctx(over: Partial<WriteContext> = {}): WriteContext {
  return { dryRun: false, fieldManager: 'alloc-test', fieldValidation: 'Strict', warnings: [], ...over };
}

/** A RestStorage with the allocators hooked in, over `store` (a fresh one by default). */
async function fresh(opts: { serviceCIDR?: string; store?: Store } = {}): Promise<Api> {
  const store = opts.store ?? (await openStore('sqlite::memory:'));
  if (!opts.store) stores.push(store);
  const rest = new RestStorage(store, registry, () => new Date());
  const alloc = new ServiceAllocator({ serviceCIDR: opts.serviceCIDR ?? '10.43.0.0/16' });
  alloc.rebuild((await rest.list(services, undefined, {})).items as KObject[]);
  rest.hooks.set(services, alloc.hooks());
  if (!opts.store) await rest.create(namespaces, undefined, { metadata: { name: 'default' } }, ctx());
  return { store, rest, alloc };
}

function svc(name: string, spec: KObject = {}): KObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec } };
}

async function apiError(fn: () => Promise<unknown>): Promise<ApiError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError, the call succeeded');
}

const create = (api: Api, obj: KObject, c = ctx()) => api.rest.create(services, 'default', obj, c);
const update = (api: Api, obj: KObject) => api.rest.update(services, 'default', obj.metadata!.name!, obj, ctx());
const get = (api: Api, name: string) => api.rest.get(services, 'default', name);

describe('ClusterIP allocation', () => {
  test('create allocates from the dynamic band of the range and defaults the IP family fields', async () => {
    const api = await fresh();
    const out = await create(api, svc('web'));
    const ip: string = out.spec.clusterIP;
    assert.match(ip, /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(out.spec.clusterIPs, [ip]);
    // 10.43.0.1-10.43.1.0 is the static band, kept for requested addresses (kube-dns's 10.43.0.10).
    const [, , c, d] = ip.split('.').map(Number);
    assert.ok(c * 256 + d > 256, `${ip} is outside the static band`);
    assert.deepEqual(out.spec.ipFamilies, ['IPv4']);
    assert.equal(out.spec.ipFamilyPolicy, 'SingleStack');
    assert.ok(api.alloc.isIPAllocated(ip));
  });

  test('a requested IP is honoured; a taken one and one outside the range are refused with kube messages', async () => {
    const api = await fresh();
    const a = await create(api, svc('a', { clusterIP: '10.43.0.5' }));
    assert.equal(a.spec.clusterIP, '10.43.0.5');
    const dup = await apiError(() => create(api, svc('b', { clusterIP: '10.43.0.5' })));
    assert.equal(dup.code, 422);
    assert.equal(
      dup.message,
      'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.0.5"}: failed to allocate IP 10.43.0.5: provided IP is already allocated',
    );
    const out = await apiError(() => create(api, svc('c', { clusterIP: '10.0.0.5' })));
    assert.equal(
      out.message,
      'Service "c" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.43.0.0/16',
    );
    await assert.rejects(get(api, 'b'), /not found/);
  });

  test('delete frees the address for the next Service', async () => {
    const api = await fresh();
    await create(api, svc('a', { clusterIP: '10.43.0.7' }));
    await api.rest.delete(services, 'default', 'a', {}, ctx());
    assert.equal(api.alloc.isIPAllocated('10.43.0.7'), false);
    assert.equal((await create(api, svc('b', { clusterIP: '10.43.0.7' }))).spec.clusterIP, '10.43.0.7');
  });

  test('a Service deleted by removing its last finalizer frees its address', async () => {
    const api = await fresh();
    await create(api, { ...svc('a', { clusterIP: '10.43.0.8' }), metadata: { name: 'a', finalizers: ['service.kubernetes.io/load-balancer-cleanup'] } });
    await api.rest.delete(services, 'default', 'a', {}, ctx());
    assert.ok(api.alloc.isIPAllocated('10.43.0.8'), 'held while the finalizer is there');
    const cur = await get(api, 'a');
    cur.metadata!.finalizers = [];
    await update(api, cur);
    assert.equal(api.alloc.isIPAllocated('10.43.0.8'), false);
  });

  test('headless and ExternalName Services get no address', async () => {
    const api = await fresh();
    const headless = await create(api, svc('h', { clusterIP: 'None' }));
    assert.deepEqual(headless.spec.clusterIPs, ['None']);
    const ext = await create(api, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'e' }, spec: { type: 'ExternalName', externalName: 'example.com' } });
    assert.equal(ext.spec.clusterIP, undefined);
    assert.equal(api.alloc.used.ips, 0);
  });

  test('clusterIP may not change on update', async () => {
    const api = await fresh();
    const a = await create(api, svc('a', { clusterIP: '10.43.0.20' }));
    a.spec.clusterIP = '10.43.0.21';
    a.spec.clusterIPs = ['10.43.0.21'];
    const err = await apiError(() => update(api, a));
    assert.equal(err.message, 'Service "a" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.43.0.21"}: may not change once set');
    assert.equal(api.alloc.isIPAllocated('10.43.0.21'), false);
  });

  test('dry-run creates allocate nothing', async () => {
    const api = await fresh();
    const out = await create(api, svc('a', { clusterIP: '10.43.0.30' }), ctx({ dryRun: true }));
    assert.equal(out.spec.clusterIP, '10.43.0.30');
    assert.equal(api.alloc.isIPAllocated('10.43.0.30'), false);
    assert.equal(api.alloc.used.ips, 0);
  });

  test('a create that fails after allocating leaves neither an object nor an allocation', async () => {
    const api = await fresh();
    await create(api, svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30100 }] }));
    const before = api.alloc.used;
    const err = await apiError(() => create(api, svc('other', { type: 'NodePort', clusterIP: '10.43.0.40', ports: [{ port: 80, nodePort: 30100 }] })));
    assert.match(err.message, /spec\.ports\[0\]\.nodePort: Invalid value: 30100: provided port is already allocated/);
    assert.equal(api.alloc.isIPAllocated('10.43.0.40'), false, 'the IP taken before the port failed is released');
    assert.deepEqual(api.alloc.used, before);
    await assert.rejects(get(api, 'other'), /not found/);
    // A name that exists: the store refuses, the allocation is rolled back.
    const exists = await apiError(() => create(api, svc('np', { clusterIP: '10.43.0.41' })));
    assert.equal(exists.reason, 'AlreadyExists');
    assert.equal(api.alloc.isIPAllocated('10.43.0.41'), false);
  });

  test('concurrent creates never share an address, and a full range says so', async () => {
    const api = await fresh({ serviceCIDR: '10.43.9.0/28' });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => create(api, svc(`s${i}`))));
    const ips = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<KObject>).value.spec.clusterIP as string);
    assert.equal(ips.length, 14, 'a /28 has 14 usable addresses');
    assert.equal(new Set(ips).size, 14);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(failed.length, 6);
    for (const f of failed) assert.equal((f.reason as ApiError).message, 'Internal error occurred: failed to allocate a serviceIP: range is full');
  });

  test('a Service stored without an address (before the allocator) gets one on its next update', async () => {
    const store = await openStore('sqlite::memory:');
    stores.push(store);
    const bare = new RestStorage(store, registry, () => new Date());
    await bare.create(namespaces, undefined, { metadata: { name: 'default' } }, ctx());
    await bare.create(services, 'default', svc('legacy'), ctx());
    const api = await fresh({ store });
    const cur = await get(api, 'legacy');
    assert.equal(cur.spec.clusterIP, undefined);
    cur.metadata!.labels = { touched: 'yes' };
    const out = await update(api, cur);
    assert.ok(api.alloc.isIPAllocated(out.spec.clusterIP), out.spec.clusterIP);
  });

  test('after a restart the allocator is rebuilt from the stored Services', async () => {
    const first = await fresh();
    const a = await create(first, svc('a', { type: 'NodePort' }));
    const again = await fresh({ store: first.store });
    assert.ok(again.alloc.isIPAllocated(a.spec.clusterIP));
    assert.ok(again.alloc.isPortAllocated(a.spec.ports[0].nodePort));
    const err = await apiError(() => create(again, svc('b', { clusterIP: a.spec.clusterIP })));
    assert.match(err.message, /provided IP is already allocated/);
    await again.rest.delete(services, 'default', 'a', {}, ctx());
    assert.equal(again.alloc.used.ips, 0);
    assert.equal(again.alloc.used.ports, 0);
  });
});

describe('NodePort allocation', () => {
  test('NodePort Services get a port per service port in 30000-32767; requested ones are honoured', async () => {
    const api = await fresh();
    const out = await create(api, svc('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30081 }] }));
    const [p0, p1] = out.spec.ports;
    assert.ok(p0.nodePort >= 30000 && p0.nodePort <= 32767);
    assert.equal(p1.nodePort, 30081);
    assert.equal(out.spec.externalTrafficPolicy, 'Cluster');
  });

  test('duplicates are refused; ports outside the range too', async () => {
    const api = await fresh();
    await create(api, svc('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] }));
    const dup = await apiError(() => create(api, svc('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30500 }] })));
    assert.equal(dup.message, 'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30500: provided port is already allocated');
    const out = await apiError(() => create(api, svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })));
    assert.equal(
      out.message,
      'Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  test('the same port number over TCP and UDP shares one node port', async () => {
    const api = await fresh();
    const out = await create(api, svc('dns', { type: 'NodePort', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }));
    assert.equal(out.spec.ports[0].nodePort, out.spec.ports[1].nodePort);
    assert.equal(api.alloc.used.ports, 1);
  });

  test('type changes: ClusterIP → NodePort allocates, NodePort → ClusterIP frees, ExternalName drops and retakes the IP', async () => {
    const api = await fresh();
    let s = await create(api, svc('t'));
    assert.equal(s.spec.ports[0].nodePort, undefined);
    s.spec.type = 'NodePort';
    s = await update(api, s);
    const np = s.spec.ports[0].nodePort;
    assert.ok(np >= 30000 && api.alloc.isPortAllocated(np));
    s.spec.type = 'ClusterIP';
    delete s.spec.externalTrafficPolicy;
    s = await update(api, s);
    assert.equal(s.spec.ports[0].nodePort, undefined);
    assert.equal(api.alloc.isPortAllocated(np), false);
    const ip = s.spec.clusterIP;
    s.spec = { type: 'ExternalName', externalName: 'db.example.com', ports: s.spec.ports };
    s = await update(api, s);
    assert.equal(s.spec.clusterIP, undefined);
    assert.equal(api.alloc.isIPAllocated(ip), false);
    s.spec = { type: 'ClusterIP', ports: [{ port: 80 }], selector: { app: 't' } };
    s = await update(api, s);
    assert.ok(api.alloc.isIPAllocated(s.spec.clusterIP));
  });

  test('kubectl replace without nodePorts keeps the allocated ones', async () => {
    const api = await fresh();
    const s = await create(api, svc('r', { type: 'NodePort' }));
    const np = s.spec.ports[0].nodePort;
    const replaced = await update(api, { ...svc('r', { type: 'NodePort' }), metadata: { name: 'r', resourceVersion: s.metadata!.resourceVersion } });
    assert.equal(replaced.spec.ports[0].nodePort, np);
    assert.equal(replaced.spec.clusterIP, s.spec.clusterIP);
    assert.equal(api.alloc.used.ports, 1);
  });

  test('LoadBalancer: node ports unless allocateLoadBalancerNodePorts is false; healthCheckNodePort for Local', async () => {
    const api = await fresh();
    const lb = await create(api, svc('lb', { type: 'LoadBalancer' }));
    assert.ok(lb.spec.ports[0].nodePort >= 30000);
    assert.equal(lb.spec.healthCheckNodePort, undefined);
    const none = await create(api, svc('lb2', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false }));
    assert.equal(none.spec.ports[0].nodePort, undefined);
    const local = await create(api, svc('lb3', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }));
    const hc = local.spec.healthCheckNodePort;
    assert.ok(hc >= 30000 && hc !== local.spec.ports[0].nodePort && api.alloc.isPortAllocated(hc));
    const taken = await apiError(() => create(api, svc('lb4', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: hc })));
    assert.equal(
      taken.message,
      `Service "lb4" is invalid: spec.healthCheckNodePort: Invalid value: ${hc}: failed to allocate requested HealthCheck NodePort ${hc}: provided port is already allocated`,
    );
    local.spec.externalTrafficPolicy = 'Cluster';
    const cluster = await update(api, local);
    assert.equal(cluster.spec.healthCheckNodePort, undefined);
    assert.equal(api.alloc.isPortAllocated(hc), false);
  });
});
