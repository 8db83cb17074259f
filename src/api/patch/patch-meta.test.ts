import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasPatchMeta, lookupPatchMeta, patchMetaFor, type PatchMeta } from './patch-meta.js';

function walk(meta: PatchMeta, path: string): PatchMeta {
  let m = meta;
  for (const part of path.split('.')) m = part === '[]' ? m.elem : m.field(part);
  return m;
}

interface ListCase {
  gvk: [string, string, string];
  path: string;
  patchStrategy?: 'merge';
  patchMergeKey?: string;
  retainKeys?: boolean;
  listType: 'atomic' | 'set' | 'map';
  listMapKeys?: string[];
}

const lists: ListCase[] = [
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.containers', patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  // Container ports: SMP merges by containerPort, apply keys on containerPort and protocol.
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.containers.[].ports', patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.containers.[].env', patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.containers.[].volumeMounts', patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.containers.[].args', listType: 'atomic' },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.volumes', patchStrategy: 'merge', patchMergeKey: 'name', retainKeys: true, listType: 'map', listMapKeys: ['name'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.tolerations', listType: 'atomic' },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.topologySpreadConstraints', patchStrategy: 'merge', patchMergeKey: 'topologyKey', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'spec.template.spec.hostAliases', patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'status.conditions', patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'metadata.ownerReferences', patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'metadata.finalizers', patchStrategy: 'merge', listType: 'set' },
  { gvk: ['apps', 'v1', 'Deployment'], path: 'metadata.managedFields', listType: 'atomic' },
  { gvk: ['', 'v1', 'Service'], path: 'spec.ports', patchStrategy: 'merge', patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] },
  { gvk: ['', 'v1', 'Node'], path: 'spec.podCIDRs', patchStrategy: 'merge', listType: 'set' },
  { gvk: ['', 'v1', 'Node'], path: 'status.addresses', patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' },
  { gvk: ['batch', 'v1', 'Job'], path: 'status.conditions', patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' },
  { gvk: ['batch', 'v1', 'CronJob'], path: 'spec.jobTemplate.spec.template.spec.initContainers', patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  { gvk: ['', 'v1', 'Pod'], path: 'status.podIPs', patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
  { gvk: ['', 'v1', 'ServiceAccount'], path: 'secrets', patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  { gvk: ['discovery.k8s.io', 'v1', 'EndpointSlice'], path: 'endpoints', listType: 'atomic' },
  { gvk: ['networking.k8s.io', 'v1', 'Ingress'], path: 'spec.rules', listType: 'atomic' },
  { gvk: ['rbac.authorization.k8s.io', 'v1', 'Role'], path: 'rules', listType: 'atomic' },
  { gvk: ['autoscaling', 'v2', 'HorizontalPodAutoscaler'], path: 'status.conditions', patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
];

describe('lookupPatchMeta lists', () => {
  for (const c of lists) {
    it(`${c.gvk.join('/')} ${c.path}`, () => {
      const m = walk(lookupPatchMeta(...c.gvk), c.path);
      // Atomic lists need no declaration: an undeclared position is replaced/owned whole.
      if (c.patchStrategy || c.listType !== 'atomic') assert.equal(m.kind, 'list');
      assert.equal(m.patchStrategy, c.patchStrategy);
      assert.equal(m.patchMergeKey, c.patchMergeKey);
      assert.equal(m.retainKeys, c.retainKeys ?? false);
      assert.equal(m.listType, c.listType);
      assert.deepEqual([...m.listMapKeys], c.listMapKeys ?? []);
    });
  }
});

describe('lookupPatchMeta structure', () => {
  it('knows atomic structs and maps, maps of entries and retainKeys fields', () => {
    const d = lookupPatchMeta('apps', 'v1', 'Deployment');
    assert.equal(walk(d, 'spec.selector').kind, 'atomic');
    assert.equal(walk(d, 'spec.template.spec.nodeSelector').kind, 'atomic');
    assert.equal(walk(d, 'spec.template.spec.containers.[].env.[].valueFrom.secretKeyRef').kind, 'atomic');
    assert.equal(walk(d, 'metadata.labels').kind, 'map');
    assert.equal(walk(d, 'metadata.labels').isField('app'), false);
    assert.equal(walk(d, 'spec').isField('replicas'), true);
    assert.equal(walk(d, 'spec.strategy').retainKeys, true);
    assert.equal(walk(lookupPatchMeta('', 'v1', 'Service'), 'spec.selector').kind, 'atomic');
    assert.equal(walk(lookupPatchMeta('policy', 'v1', 'PodDisruptionBudget'), 'spec.selector').patchStrategy, 'replace');
  });

  it('gives key defaults for apply (protocol TCP)', () => {
    const ports = walk(lookupPatchMeta('', 'v1', 'Pod'), 'spec.containers.[].ports');
    assert.deepEqual(ports.keyDefaults, { protocol: 'TCP' });
    assert.deepEqual(walk(lookupPatchMeta('', 'v1', 'Service'), 'spec.ports').keyDefaults, { protocol: 'TCP' });
  });

  it('undeclared fields behave like plain JSON', () => {
    const d = lookupPatchMeta('apps', 'v1', 'Deployment');
    const unknown = walk(d, 'spec.somethingNew.deeper');
    assert.equal(unknown.kind, 'struct');
    assert.equal(unknown.patchStrategy, undefined);
    assert.equal(unknown.listType, 'atomic');
    assert.equal(walk(d, 'spec.template.spec.dnsConfig.nameservers').listType, 'atomic');
  });

  it('unknown kinds only know metadata', () => {
    const w = lookupPatchMeta('example.com', 'v1', 'Widget');
    assert.equal(hasPatchMeta('example.com', 'v1', 'Widget'), false);
    assert.equal(walk(w, 'metadata.finalizers').listType, 'set');
    assert.equal(walk(w, 'spec.items').patchStrategy, undefined);
  });

  it('maps versions and groups', () => {
    assert.equal(hasPatchMeta('apps', 'v1', 'Deployment'), true);
    assert.equal(hasPatchMeta('', 'v1', 'Deployment'), false);
    assert.equal(patchMetaFor({ apiVersion: 'v1', kind: 'Pod' }).typeName, 'Pod');
    assert.equal(patchMetaFor({ apiVersion: 'events.k8s.io/v1', kind: 'Event' }).typeName, 'EventV1');
    assert.equal(patchMetaFor({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler' }).typeName, 'HorizontalPodAutoscalerV1');
    assert.equal(patchMetaFor({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }).typeName, 'HorizontalPodAutoscaler');
  });

  it('builds the Go zero value of a kind', () => {
    assert.deepEqual(lookupPatchMeta('apps', 'v1', 'Deployment').zeroValue(), {
      metadata: {},
      spec: { template: { metadata: {}, spec: { containers: null } }, strategy: {} },
      status: {},
    });
    assert.deepEqual(lookupPatchMeta('', 'v1', 'ConfigMap').zeroValue(), { metadata: {} });
  });
});
