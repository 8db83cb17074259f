import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.js';
import { configMapDef } from './configmap.js';
import { namespaceDef } from './namespace.js';
import { nodeDef } from './node.js';
import { persistentVolumeDef } from './persistentvolume.js';
import { persistentVolumeClaimDef } from './persistentvolumeclaim.js';
import { base64ErrorOffset, secretDef } from './secret.js';
import { serviceAccountDef } from './serviceaccount.js';
import { simulateCreate, simulateUpdate, testNow } from './strategy-test-util.js';
import { podWorkloadResources } from './workloads.js';

test('every kind is listed once with its identity', () => {
  const plurals = podWorkloadResources.map((d) => d.plural);
  assert.equal(new Set(plurals).size, plurals.length);
  const all = podWorkloadResources.filter((d) => d.categories?.includes('all')).map((d) => d.plural).sort();
  assert.deepEqual(all, ['cronjobs', 'daemonsets', 'deployments', 'jobs', 'pods', 'replicasets', 'replicationcontrollers', 'statefulsets']);
  for (const d of podWorkloadResources) {
    assert.ok(d.table, `${d.kind} has a printer`);
    for (const c of d.table!.columns) assert.ok(c.description.length > 0, `${d.kind} ${c.name} has a description`);
    assert.equal(d.table!.columns[0].format, 'name');
  }
});

test('Namespace: label, phase, finalizer, finalize-only finalizer changes', () => {
  const { obj, errors } = simulateCreate(namespaceDef, { metadata: { name: 'team-a' } });
  assert.deepEqual(errors, []);
  assert.equal(obj.metadata?.labels?.['kubernetes.io/metadata.name'], 'team-a');
  assert.deepEqual(obj.status, { phase: 'Active' });
  assert.deepEqual(obj.spec.finalizers, ['kubernetes']);
  const edited = structuredClone(obj);
  edited.spec.finalizers = [];
  edited.metadata!.labels = { x: 'y' };
  const upd = simulateUpdate(namespaceDef, obj, edited);
  assert.deepEqual(upd.obj.spec.finalizers, ['kubernetes']);
  assert.equal(upd.obj.metadata?.labels?.['kubernetes.io/metadata.name'], 'team-a');
  assert.deepEqual(simulateUpdate(namespaceDef, obj, edited, 'finalize').obj.spec.finalizers, []);
  assert.deepEqual(simulateCreate(namespaceDef, { metadata: { name: 'a.b' } }).errors.length, 1);
  assert.deepEqual(simulateCreate(namespaceDef, { metadata: { name: 'ns' }, spec: { finalizers: ['custom'] } }).errors, [
    'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
  ]);
  assert.equal(namespaceDef.fieldSelectors!['status.phase'](obj), 'Active');
  assert.deepEqual(namespaceDef.table!.cells(obj, testNow), ['team-a', 'Active', '0s']);
});

function node(): KObject {
  return {
    metadata: { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' } },
    spec: { podCIDR: '10.42.0.0/24' },
    status: {
      capacity: { cpu: '4', memory: '8048576Ki', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'node-1' },
      ],
      nodeInfo: { kubeletVersion: 'v1.32.0+skiff', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'skiff://0.1.0' },
    },
  };
}

test('Node: defaults, table, field selector and update rules', () => {
  const { obj, errors } = simulateCreate(nodeDef, node());
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec.podCIDRs, ['10.42.0.0/24']);
  assert.deepEqual(obj.status.allocatable, obj.status.capacity);
  assert.deepEqual(nodeDef.table!.cells(obj, testNow), [
    'node-1',
    'Ready',
    'control-plane,worker',
    '0s',
    'v1.32.0+skiff',
    '192.168.1.10',
    '<none>',
    'Debian GNU/Linux 12 (bookworm)',
    '6.1.0',
    'skiff://0.1.0',
  ]);
  const cordoned = structuredClone(obj);
  cordoned.spec.unschedulable = true;
  cordoned.status.conditions = [{ type: 'Ready', status: 'Unknown' }];
  assert.equal(nodeDef.table!.cells(cordoned, testNow)[1], 'NotReady,SchedulingDisabled');
  assert.equal(nodeDef.fieldSelectors!['spec.unschedulable'](cordoned), 'true');
  const moved = structuredClone(obj);
  moved.spec.podCIDR = '10.42.1.0/24';
  moved.spec.podCIDRs = ['10.42.1.0/24'];
  assert.deepEqual(simulateUpdate(nodeDef, obj, moved).errors, ['spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid']);
  const tainted = node();
  tainted.spec.taints = [{ key: 'k', effect: 'NoSchedule' }, { key: 'k', effect: 'Sometimes' }];
  assert.deepEqual(simulateCreate(nodeDef, tainted).errors, [
    'spec.taints[1].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ]);
});

test('ConfigMap: keys, data/binaryData overlap, immutability, DATA column', () => {
  assert.deepEqual(simulateCreate(configMapDef, { metadata: { name: 'c' }, data: { 'nginx.conf': 'x', 'bad key': 'y' }, binaryData: { 'nginx.conf': 'eA==' } }).errors, [
    'data[nginx.conf]: Invalid value: "nginx.conf": duplicate of key present in binaryData',
    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    'binaryData[nginx.conf]: Invalid value: "nginx.conf": duplicate of key present in data',
  ]);
  const { obj } = simulateCreate(configMapDef, { metadata: { name: 'c' }, data: { a: '1' }, binaryData: { b: 'eA==' }, immutable: true });
  assert.deepEqual(configMapDef.table!.cells(obj, testNow), ['c', 2, '0s']);
  const changed = structuredClone(obj);
  changed.data.a = '2';
  assert.deepEqual(simulateUpdate(configMapDef, obj, changed).errors, ['data: Forbidden: field is immutable when `immutable` is set']);
});

test('Secret: type default, stringData merged, base64 and type rules', () => {
  const { obj, errors } = simulateCreate(secretDef, { metadata: { name: 's' }, data: { a: 'eA==' }, stringData: { password: 'hunter2', a: 'y' } });
  assert.deepEqual(errors, []);
  assert.equal(obj.type, 'Opaque');
  assert.equal(obj.stringData, undefined);
  assert.deepEqual(obj.data, { a: 'eQ==', password: Buffer.from('hunter2').toString('base64') });
  assert.deepEqual(secretDef.table!.cells(obj, testNow), ['s', 'Opaque', 2, '0s']);
  assert.equal(secretDef.fieldSelectors!.type(obj), 'Opaque');
  assert.throws(() => simulateCreate(secretDef, { metadata: { name: 's' }, data: { a: 'not base64!' } }), /illegal base64 data at input byte 3/);
  assert.equal(base64ErrorOffset('YWJj'), -1);
  assert.equal(base64ErrorOffset('YWJ'), 0);
  assert.equal(base64ErrorOffset('YWJjZ'), 4);
  assert.deepEqual(simulateCreate(secretDef, { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } }).errors, ['data[tls.key]: Required value']);
  assert.deepEqual(simulateCreate(secretDef, { metadata: { name: 't' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'nope' } }).errors, [
    `data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character 'n' looking for beginning of value`,
  ]);
  const retyped = structuredClone(obj);
  retyped.type = 'kubernetes.io/basic-auth';
  retyped.data.username = 'eA==';
  assert.deepEqual(simulateUpdate(secretDef, obj, retyped).errors, ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
});

test('ServiceAccount table', () => {
  const { obj } = simulateCreate(serviceAccountDef, { metadata: { name: 'default' }, secrets: [{ name: 'tok' }] });
  assert.deepEqual(serviceAccountDef.table!.cells(obj, testNow), ['default', 1, '0s']);
  assert.deepEqual(serviceAccountDef.extraSubresources, ['token']);
});

test('PersistentVolume: defaults, validation, immutable source, table', () => {
  const pv: KObject = { metadata: { name: 'pv1' }, spec: { capacity: { storage: '2048Mi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } };
  const { obj, errors } = simulateCreate(persistentVolumeDef, pv);
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(obj.spec.volumeMode, 'Filesystem');
  assert.equal(obj.spec.capacity.storage, '2Gi');
  assert.deepEqual(obj.status, { phase: 'Pending', lastPhaseTransitionTime: '2025-01-01T12:00:00Z' });
  obj.status.phase = 'Bound';
  obj.spec.claimRef = { namespace: 'default', name: 'data' };
  assert.deepEqual(persistentVolumeDef.table!.cells(obj, testNow), ['pv1', '2Gi', 'RWO', 'Retain', 'Bound', 'default/data', '', '<unset>', '', '0s', 'Filesystem']);
  assert.deepEqual(simulateCreate(persistentVolumeDef, { metadata: { name: 'x' }, spec: { capacity: { storage: '1Gi' } } }).errors, [
    'spec.accessModes: Required value',
    'spec: Required value: must specify a volume type',
  ]);
  const moved = structuredClone(obj);
  moved.spec.hostPath.path = '/other';
  const upd = simulateUpdate(persistentVolumeDef, obj, moved);
  assert.equal(upd.errors.length, 1);
  assert.ok(upd.errors[0].startsWith('spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n'));
});

test('PersistentVolumeClaim: defaults, validation, binding and resize rules, table', () => {
  const pvc: KObject = { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
  const { obj, errors } = simulateCreate(persistentVolumeClaimDef, pvc);
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.volumeMode, 'Filesystem');
  assert.deepEqual(obj.status, { phase: 'Pending' });
  assert.deepEqual(persistentVolumeClaimDef.table!.cells(obj, testNow), ['data', 'Pending', '', '', '', '', '<unset>', '0s', 'Filesystem']);
  assert.deepEqual(simulateCreate(persistentVolumeClaimDef, { metadata: { name: 'x' }, spec: {} }).errors, [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  const bound = structuredClone(obj);
  bound.spec.volumeName = 'pv1';
  assert.deepEqual(simulateUpdate(persistentVolumeClaimDef, obj, bound).errors, []);
  bound.status = { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] };
  assert.deepEqual(persistentVolumeClaimDef.table!.cells(bound, testNow).slice(1, 5), ['Bound', 'pv1', '1Gi', 'RWO']);
  const grown = structuredClone(bound);
  grown.spec.resources.requests.storage = '2Gi';
  assert.deepEqual(simulateUpdate(persistentVolumeClaimDef, bound, grown).errors, []);
  const modes = structuredClone(bound);
  modes.spec.accessModes = ['ReadWriteMany'];
  const errs = simulateUpdate(persistentVolumeClaimDef, bound, modes).errors;
  assert.ok(errs[0].startsWith('spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'), errs[0]);
});
