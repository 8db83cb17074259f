import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storageOf } from '../types.js';
import { networkingAndMiscResources } from './network-misc.js';

test('every kind is listed once per served group/version', () => {
  const keys = networkingAndMiscResources.map((d) => `${d.group}/${d.version}/${d.plural}`);
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(
    [...new Set(networkingAndMiscResources.map((d) => d.kind))].sort(),
    [
      'ClusterRole',
      'ClusterRoleBinding',
      'EndpointSlice',
      'Endpoints',
      'Event',
      'HorizontalPodAutoscaler',
      'Ingress',
      'IngressClass',
      'Lease',
      'Role',
      'RoleBinding',
      'Service',
    ],
  );
});

test('identity matches kube-apiserver discovery', () => {
  const byKey = new Map(networkingAndMiscResources.map((d) => [`${d.group}/${d.version}/${d.plural}`, d]));
  const expect: Array<[string, boolean, string[] | undefined, string[] | undefined]> = [
    ['/v1/services', true, ['svc'], ['all']],
    ['/v1/endpoints', true, ['ep'], undefined],
    ['/v1/events', true, ['ev'], undefined],
    ['events.k8s.io/v1/events', true, ['ev'], undefined],
    ['autoscaling/v2/horizontalpodautoscalers', true, ['hpa'], ['all']],
    ['autoscaling/v1/horizontalpodautoscalers', true, ['hpa'], ['all']],
    ['networking.k8s.io/v1/ingresses', true, ['ing'], undefined],
    ['networking.k8s.io/v1/ingressclasses', false, undefined, undefined],
    ['discovery.k8s.io/v1/endpointslices', true, undefined, undefined],
    ['coordination.k8s.io/v1/leases', true, undefined, undefined],
    ['rbac.authorization.k8s.io/v1/roles', true, undefined, undefined],
    ['rbac.authorization.k8s.io/v1/clusterroles', false, undefined, undefined],
    ['rbac.authorization.k8s.io/v1/rolebindings', true, undefined, undefined],
    ['rbac.authorization.k8s.io/v1/clusterrolebindings', false, undefined, undefined],
  ];
  for (const [key, namespaced, shortNames, categories] of expect) {
    const d = byKey.get(key);
    assert.ok(d, key);
    assert.equal(d.namespaced, namespaced, key);
    assert.deepEqual(d.shortNames, shortNames, key);
    assert.deepEqual(d.categories, categories, key);
  }
});

test('served versions that share storage agree on it', () => {
  const storages = new Map<string, string>();
  for (const d of networkingAndMiscResources) {
    const s = storageOf(d);
    const prev = storages.get(s.resource);
    if (prev) assert.equal(prev, s.version, s.resource);
    storages.set(s.resource, s.version);
    if (d.toStorage || d.fromStorage) assert.ok(d.toStorage && d.fromStorage, `${d.group}/${d.version}/${d.plural}`);
  }
  assert.equal(storages.get('events'), 'v1');
  assert.equal(storages.get('horizontalpodautoscalers'), 'autoscaling/v2');
});

test('every printer has a name column and one cell per column', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  for (const d of networkingAndMiscResources) {
    if (!d.table) continue;
    assert.ok(d.table.columns.some((c) => c.format === 'name'), d.plural);
    for (const c of d.table.columns) assert.ok(c.description.length > 0, `${d.plural} ${c.name}`);
    const cells = d.table.cells({ apiVersion: d.group ? `${d.group}/${d.version}` : d.version, kind: d.kind, metadata: { name: 'x' } }, now);
    assert.equal(cells.length, d.table.columns.length, d.plural);
  }
});
