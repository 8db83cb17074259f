import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.js';
import { daemonSetDef, templateGenerationAnnotation } from './apps-daemonset.js';
import { deploymentDef } from './apps-deployment.js';
import { replicaSetDef } from './apps-replicaset.js';
import { statefulSetDef } from './apps-statefulset.js';
import { replicationControllerDef } from './replicationcontroller.js';
import { simulateCreate, simulateUpdate, testNow } from './strategy-test-util.js';

function deployment(): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    },
  };
}

test('a minimal Deployment gets the documented defaults', () => {
  const { obj, errors } = simulateCreate(deploymentDef, deployment());
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.replicas, 1);
  assert.deepEqual(obj.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  assert.equal(obj.spec.progressDeadlineSeconds, 600);
  assert.equal(obj.spec.template.metadata.creationTimestamp, null);
  const pod = obj.spec.template.spec;
  assert.equal(pod.restartPolicy, 'Always');
  assert.equal(pod.dnsPolicy, 'ClusterFirst');
  assert.equal(pod.terminationGracePeriodSeconds, 30);
  assert.equal(pod.schedulerName, 'default-scheduler');
  assert.deepEqual(pod.securityContext, {});
  assert.equal(pod.enableServiceLinks, undefined);
  assert.deepEqual(pod.containers[0], {
    name: 'nginx',
    image: 'nginx:1.27',
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    resources: {},
  });
  assert.deepEqual(obj.status, {});
  assert.equal(obj.metadata?.generation, 1);
});

test('selector rules give kube-apiserver messages', () => {
  const mismatch = deployment();
  mismatch.spec.template.metadata.labels = { app: 'x' };
  assert.deepEqual(simulateCreate(deploymentDef, mismatch).errors, [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
  ]);

  const missing = deployment();
  delete missing.spec.selector;
  assert.deepEqual(simulateCreate(deploymentDef, missing).errors, [
    'spec.selector: Required value',
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);

  const empty = deployment();
  empty.spec.selector = {};
  assert.deepEqual(simulateCreate(deploymentDef, empty).errors, [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
  ]);
});

test('replicas, restartPolicy and strategy rules', () => {
  const d = deployment();
  d.spec.replicas = -1;
  d.spec.template.spec.restartPolicy = 'OnFailure';
  d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } };
  assert.deepEqual(simulateCreate(deploymentDef, d).errors, [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
  ]);
  const r = deployment();
  r.spec.strategy = { type: 'Recreate', rollingUpdate: {} };
  assert.deepEqual(simulateCreate(deploymentDef, r).errors, ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]);
  const p = deployment();
  p.spec.strategy = { rollingUpdate: { maxSurge: '10' } };
  assert.deepEqual(simulateCreate(deploymentDef, p).errors, [
    "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"10\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
  ]);
});

test('the selector is immutable and annotations bump the generation', () => {
  const { obj: old } = simulateCreate(deploymentDef, deployment());
  const changed = structuredClone(old);
  changed.spec.selector = { matchLabels: { app: 'web2' } };
  changed.spec.template.metadata.labels = { app: 'web2' };
  assert.deepEqual(simulateUpdate(deploymentDef, old, changed).errors, [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
  ]);
  const annotated = structuredClone(old);
  annotated.metadata!.annotations = { 'kubernetes.io/change-cause': 'x' };
  assert.equal(simulateUpdate(deploymentDef, old, annotated).obj.metadata?.generation, 2);
  assert.equal(simulateUpdate(deploymentDef, old, structuredClone(old)).obj.metadata?.generation, 1);
});

test('deployment table', () => {
  const { obj } = simulateCreate(deploymentDef, deployment());
  obj.spec.replicas = 3;
  obj.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(deploymentDef.table!.cells(obj, new Date(testNow.getTime() + 90_000)), ['web', '2/3', 3, 2, '90s', 'nginx', 'nginx:1.27', 'app=web']);
  assert.deepEqual(
    deploymentDef.table!.columns.map((c) => c.name),
    ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector'],
  );
});

test('ReplicaSet defaults, rules, field selector and table', () => {
  const rs = deployment();
  rs.kind = 'ReplicaSet';
  const { obj, errors } = simulateCreate(replicaSetDef, rs);
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.replicas, 1);
  assert.deepEqual(obj.status, { replicas: 0 });
  obj.status = { replicas: 1, readyReplicas: 1 };
  assert.equal(replicaSetDef.fieldSelectors!['status.replicas'](obj), '1');
  assert.deepEqual(replicaSetDef.table!.cells(obj, testNow), ['web', 1, 1, 1, '0s', 'nginx', 'nginx:1.27', 'app=web']);
  const bad = structuredClone(rs);
  bad.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }, { key: 'tier', operator: 'Exists' }] };
  const created = simulateCreate(replicaSetDef, bad);
  assert.deepEqual(created.errors, [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
  assert.equal(replicaSetDef.table!.cells(created.obj, testNow)[7], 'app in (web),tier');
});

test('StatefulSet defaults and the spec update rule', () => {
  const sts = deployment();
  sts.kind = 'StatefulSet';
  sts.spec.serviceName = 'web';
  sts.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1024Mi' } } } }];
  const { obj, errors } = simulateCreate(statefulSetDef, sts);
  assert.deepEqual(errors, []);
  assert.equal(obj.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(obj.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(obj.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(obj.spec.replicas, 1);
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  const vct = obj.spec.volumeClaimTemplates[0];
  assert.equal(vct.apiVersion, 'v1');
  assert.equal(vct.kind, 'PersistentVolumeClaim');
  assert.equal(vct.spec.volumeMode, 'Filesystem');
  assert.equal(vct.spec.resources.requests.storage, '1Gi');
  assert.deepEqual(vct.status, { phase: 'Pending' });

  const scaled = structuredClone(obj);
  scaled.spec.replicas = 3;
  assert.deepEqual(simulateUpdate(statefulSetDef, obj, scaled).errors, []);
  const renamed = structuredClone(obj);
  renamed.spec.serviceName = 'other';
  assert.deepEqual(simulateUpdate(statefulSetDef, obj, renamed).errors, [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ]);
  obj.status = { readyReplicas: 1 };
  assert.deepEqual(statefulSetDef.table!.cells(obj, testNow), ['web', '1/1', '0s', 'nginx', 'nginx:1.27']);
});

test('DaemonSet defaults, template generation and table', () => {
  const ds = deployment();
  ds.kind = 'DaemonSet';
  ds.spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  const { obj, errors } = simulateCreate(daemonSetDef, ds);
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  assert.equal(obj.metadata?.annotations?.[templateGenerationAnnotation], '1');
  const changed = structuredClone(obj);
  changed.spec.template.spec.containers[0].image = 'nginx:1.28';
  changed.metadata!.annotations![templateGenerationAnnotation] = '9';
  assert.equal(simulateUpdate(daemonSetDef, obj, changed).obj.metadata?.annotations?.[templateGenerationAnnotation], '2');
  const both = structuredClone(obj);
  both.spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: 1 };
  assert.deepEqual(simulateUpdate(daemonSetDef, obj, both).errors, [
    'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero',
  ]);
  obj.status = { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 };
  assert.deepEqual(daemonSetDef.table!.cells(obj, testNow), ['web', 2, 2, 1, 2, 1, 'kubernetes.io/os=linux', '0s', 'nginx', 'nginx:1.27', 'app=web']);
});

test('ReplicationController takes its selector from the template', () => {
  const rc: KObject = { metadata: { name: 'rc' }, spec: { template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'a', image: 'a:1' }] } } } };
  const { obj, errors } = simulateCreate(replicationControllerDef, rc);
  assert.deepEqual(errors, []);
  assert.deepEqual(obj.spec.selector, { app: 'x' });
  assert.deepEqual(obj.metadata?.labels, { app: 'x' });
  assert.equal(obj.spec.replicas, 1);
  assert.deepEqual(replicationControllerDef.table!.cells(obj, testNow), ['rc', 1, 0, 0, '0s', 'a', 'a:1', 'app=x']);
});
