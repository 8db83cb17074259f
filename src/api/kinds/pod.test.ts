import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.js';
import { podDef, podStatusSummary, podUpdatableFieldsMessage } from './pod.js';
import { simulateCreate, simulateUpdate, testNow } from './strategy-test-util.js';

const minimalPod = (): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } });

function ago(seconds: number): string {
  return new Date(testNow.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

test('a new pod gets defaults, admission defaults and a Pending status', () => {
  const { obj, errors } = simulateCreate(podDef, minimalPod());
  assert.deepEqual(errors, []);
  const spec = obj.spec;
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.serviceAccount, 'default');
  assert.equal(spec.priority, 0);
  assert.equal(spec.preemptionPolicy, 'PreemptLowerPriority');
  assert.equal(spec.enableServiceLinks, true);
  assert.deepEqual(spec.tolerations, [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ]);
  assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(obj.metadata?.generation, undefined);
});

test('existing tolerations for the node taints are respected', () => {
  const pod = minimalPod();
  pod.spec.tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }];
  const { obj } = simulateCreate(podDef, pod);
  assert.equal(obj.spec.tolerations.length, 2);
  assert.equal(obj.spec.tolerations[1].key, 'node.kubernetes.io/not-ready');
});

test('scheduling gates produce the SchedulingGated condition', () => {
  const pod = minimalPod();
  pod.spec.schedulingGates = [{ name: 'example.com/wait' }];
  const { obj } = simulateCreate(podDef, pod);
  assert.equal(obj.status.conditions[0].reason, 'SchedulingGated');
  assert.equal(podStatusSummary(obj, testNow).status, 'SchedulingGated');
});

test('ephemeral containers cannot be set on create', () => {
  const pod = minimalPod();
  pod.spec.ephemeralContainers = [{ name: 'dbg', image: 'busybox' }];
  const { errors } = simulateCreate(podDef, pod);
  assert.deepEqual(errors, ['spec.ephemeralContainers: Forbidden: cannot be set on create']);
});

test('pod updates may only change images and the other allowed fields', () => {
  const { obj: old } = simulateCreate(podDef, minimalPod());
  const imageChange = structuredClone(old);
  imageChange.spec.containers[0].image = 'nginx:1.27';
  assert.deepEqual(simulateUpdate(podDef, old, imageChange).errors, []);

  const portChange = structuredClone(old);
  portChange.spec.containers[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
  const errs = simulateUpdate(podDef, old, portChange).errors;
  assert.equal(errs.length, 1);
  assert.ok(errs[0].startsWith(`spec: Forbidden: ${podUpdatableFieldsMessage}\n`), errs[0]);

  const removed = structuredClone(old);
  removed.spec.containers = [];
  assert.deepEqual(simulateUpdate(podDef, old, removed).errors.slice(-1), ['spec.containers: Forbidden: pod updates may not add or remove containers']);

  const tolerationChanged = structuredClone(old);
  tolerationChanged.spec.tolerations = [tolerationChanged.spec.tolerations[0]];
  assert.ok(
    simulateUpdate(podDef, old, tolerationChanged).errors.includes('spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds'),
  );
});

test('status writes keep the spec and the owner references', () => {
  const { obj: old } = simulateCreate(podDef, { ...minimalPod(), metadata: { name: 'web', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1' }] } });
  const next = structuredClone(old);
  next.metadata!.ownerReferences = [];
  next.status = { phase: 'Running', podIP: '10.42.0.5' };
  const { obj, errors } = simulateUpdate(podDef, old, next, 'status');
  assert.deepEqual(errors, []);
  assert.equal(obj.status.phase, 'Running');
  assert.deepEqual(obj.status.podIPs, [{ ip: '10.42.0.5' }]);
  assert.equal(obj.metadata?.ownerReferences?.[0].name, 'rs');
});

function podWith(status: KObject, spec: KObject = { containers: [{ name: 'a' }] }, meta: KObject = {}): KObject {
  return { metadata: { name: 'p', creationTimestamp: ago(300), ...meta }, spec, status };
}

test('STATUS column reproduces kubectl reasons', () => {
  const cases: Array<[string, KObject]> = [
    ['Pending', podWith({ phase: 'Pending' })],
    ['ContainerCreating', podWith({ phase: 'Pending', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] })],
    ['Running', podWith({ phase: 'Running', containerStatuses: [{ name: 'a', ready: true, restartCount: 0, state: { running: { startedAt: ago(60) } } }] })],
    [
      'CrashLoopBackOff',
      podWith({ phase: 'Running', containerStatuses: [{ name: 'a', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
    ],
    ['Completed', podWith({ phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] })],
    ['Error', podWith({ phase: 'Failed', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }] })],
    ['ExitCode:2', podWith({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 2 } } }] })],
    [
      'Init:0/2',
      podWith(
        { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { running: {} } }, { name: 'i2', state: { waiting: { reason: 'PodInitializing' } } }] },
        { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] },
      ),
    ],
    [
      'Init:1/2',
      podWith(
        { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { running: {} } }] },
        { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] },
      ),
    ],
    [
      'Init:CrashLoopBackOff',
      podWith(
        { phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
        { initContainers: [{ name: 'i1' }], containers: [{ name: 'a' }] },
      ),
    ],
    ['Terminating', podWith({ phase: 'Running' }, undefined, { deletionTimestamp: ago(1) })],
    ['Unknown', podWith({ phase: 'Running', reason: 'NodeLost' }, undefined, { deletionTimestamp: ago(1) })],
    ['Evicted', podWith({ phase: 'Failed', reason: 'Evicted' })],
  ];
  for (const [want, pod] of cases) assert.equal(podStatusSummary(pod, testNow).status, want, want);
});

test('READY counts sidecars and RESTARTS shows the last restart', () => {
  const pod = podWith(
    {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 'side', started: true, ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(600) } } }],
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } },
        { name: 'b', ready: false, restartCount: 0, state: { running: {} } },
      ],
    },
    { initContainers: [{ name: 'side', restartPolicy: 'Always' }], containers: [{ name: 'a' }, { name: 'b' }] },
  );
  const s = podStatusSummary(pod, testNow);
  assert.equal(s.ready, '2/3');
  assert.equal(s.restarts, '3 (5m ago)');
  assert.equal(podStatusSummary(podWith({ phase: 'Running' }), testNow).restarts, '0');
});

test('table cells include wide columns', () => {
  const pod = podWith(
    { phase: 'Running', podIPs: [{ ip: '10.42.0.7' }], conditions: [{ type: 'example.com/gate', status: 'True' }] },
    { containers: [{ name: 'a' }], nodeName: 'node-1', readinessGates: [{ conditionType: 'example.com/gate' }, { conditionType: 'other' }] },
  );
  assert.deepEqual(podDef.table!.cells(pod, testNow), ['p', '0/1', 'Running', '0', '5m', '10.42.0.7', 'node-1', '<none>', '1/2']);
  assert.deepEqual(
    podDef.table!.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ],
  );
  assert.equal(podDef.table!.columns[0].format, 'name');
});

test('field selectors', () => {
  const { obj } = simulateCreate(podDef, { ...minimalPod(), spec: { ...minimalPod().spec, nodeName: 'n1', restartPolicy: 'Never' } });
  const f = podDef.fieldSelectors!;
  assert.equal(f['spec.nodeName'](obj), 'n1');
  assert.equal(f['spec.restartPolicy'](obj), 'Never');
  assert.equal(f['spec.schedulerName'](obj), 'default-scheduler');
  assert.equal(f['spec.serviceAccountName'](obj), 'default');
  assert.equal(f['status.phase'](obj), 'Pending');
  assert.equal(f['status.podIP'](obj), '');
  assert.equal(f['spec.hostNetwork'](obj), 'false');
});
