import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject, StrategyContext } from '../types.js';
import {
  behaviorSpecsAnnotation,
  conditionsAnnotation,
  formatHPAMetrics,
  horizontalPodAutoscalerV1Resource as v1Def,
  horizontalPodAutoscalerV2Resource as v2Def,
  hpaV1ToV2,
  hpaV2ToV1,
  metricSpecsAnnotation,
  metricStatusesAnnotation,
} from './horizontalpodautoscaler.js';

const now = new Date('2024-05-01T12:00:00Z');
const ctx: StrategyContext = { now, subresource: '' };
const meta = { name: 'web', namespace: 'default', creationTimestamp: '2024-05-01T11:00:00Z' };

function cpuMetric(target: number): KObject {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } };
}

test('v2 defaults: minReplicas 1 and 80% CPU when no metric is given', () => {
  const hpa: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { ...meta }, spec: { maxReplicas: 5, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } } };
  v2Def.defaults!(hpa);
  assert.equal(hpa.spec.minReplicas, 1);
  assert.deepEqual(hpa.spec.metrics, [cpuMetric(80)]);
  assert.equal(hpa.spec.behavior, undefined);
  v2Def.prepareForCreate!(hpa, ctx);
  assert.deepEqual(hpa.status, { desiredReplicas: 0 });
  assert.deepEqual(v2Def.validate!(hpa), []);
});

test('v2 defaults fill a partially given behavior', () => {
  const hpa: KObject = {
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta },
    spec: { maxReplicas: 5, metrics: [cpuMetric(50)], behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
  };
  v2Def.defaults!(hpa);
  assert.deepEqual(hpa.spec.behavior, {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { selectPolicy: 'Max', stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  });
});

test('v2 defaults canonicalize target quantities', () => {
  const hpa: KObject = {
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta },
    spec: { maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1024Mi' } } }] },
  };
  v2Def.defaults!(hpa);
  assert.equal(hpa.spec.metrics[0].resource.target.averageValue, '1Gi');
});

test('kubectl autoscale (autoscaling/v1) is stored as v2 and read back unchanged', () => {
  const v1: KObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...meta },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
  };
  v1Def.defaults!(v1);
  v1Def.prepareForCreate!(v1, ctx);
  assert.deepEqual(v1Def.validate!(v1), []);
  const stored = v1Def.toStorage!(v1);
  assert.equal(stored.apiVersion, 'autoscaling/v2');
  assert.equal(stored.spec.minReplicas, 1);
  assert.deepEqual(stored.spec.metrics, [cpuMetric(50)]);
  assert.equal(stored.metadata!.annotations, undefined);
  const back = v1Def.fromStorage!(stored);
  assert.deepEqual(back, {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta,
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 0, desiredReplicas: 0 },
  });
});

test('a v1 object without a CPU target gets the implicit 80%', () => {
  const stored = hpaV1ToV2({ apiVersion: 'autoscaling/v1', metadata: { ...meta }, spec: { maxReplicas: 2, scaleTargetRef: { kind: 'Deployment', name: 'web' } } });
  assert.deepEqual(stored.spec.metrics, [cpuMetric(80)]);
  assert.equal(hpaV2ToV1(stored).spec.targetCPUUtilizationPercentage, 80);
});

test('v2-only fields survive a round trip through autoscaling/v1 annotations', () => {
  const v2: KObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...meta, annotations: { team: 'a' } },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        cpuMetric(60),
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'http_requests' }, target: { type: 'AverageValue', averageValue: '10' } } },
      ],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] },
        scaleDown: { selectPolicy: 'Min', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      },
    },
    status: {
      currentReplicas: 3,
      desiredReplicas: 4,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 72, averageValue: '360m' } } },
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '400Mi' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2024-05-01T11:30:00Z', reason: 'ReadyForNewScale', message: 'ok' }],
    },
  };
  v2Def.defaults!(v2);
  const v1 = hpaV2ToV1(v2);
  assert.equal(v1.spec.targetCPUUtilizationPercentage, 60);
  assert.equal(v1.status.currentCPUUtilizationPercentage, 72);
  assert.equal(v1.metadata!.annotations!.team, 'a');
  assert.deepEqual(JSON.parse(v1.metadata!.annotations![metricSpecsAnnotation]), [
    { type: 'Resource', resource: { name: 'memory', targetAverageValue: '512Mi' } },
    { type: 'Pods', pods: { metricName: 'http_requests', targetAverageValue: '10' } },
  ]);
  assert.deepEqual(JSON.parse(v1.metadata!.annotations![metricStatusesAnnotation])[1], {
    type: 'Resource',
    resource: { name: 'memory', currentAverageValue: '400Mi' },
  });
  assert.deepEqual(JSON.parse(v1.metadata!.annotations![conditionsAnnotation]), v2.status.conditions);
  assert.equal(
    v1.metadata!.annotations![behaviorSpecsAnnotation],
    '{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}]},' +
      '"ScaleDown":{"StabilizationWindowSeconds":null,"SelectPolicy":"Min","Policies":[{"Type":"Percent","Value":50,"PeriodSeconds":60}]}}',
  );

  const back = hpaV1ToV2(v1);
  assert.deepEqual(back.metadata, v2.metadata);
  // Metrics carried in the annotation come first, then the CPU target, as kube orders them.
  assert.deepEqual(back.spec.metrics, [v2.spec.metrics[1], v2.spec.metrics[2], v2.spec.metrics[0]]);
  assert.deepEqual(back.spec.behavior, v2.spec.behavior);
  assert.deepEqual(back.status.conditions, v2.status.conditions);
  assert.deepEqual(back.status.currentMetrics[0], v2.status.currentMetrics[0]);
  assert.deepEqual(back.status.currentMetrics[1].resource.current, { averageValue: '400Mi' });
  assert.equal(back.status.currentReplicas, 3);
  assert.equal(back.status.desiredReplicas, 4);
  // And a second trip is stable.
  assert.deepEqual(hpaV2ToV1(back), v1);
});

test('TARGETS column formats like kubectl get hpa', () => {
  assert.equal(formatHPAMetrics([cpuMetric(50)], undefined), 'cpu: <unknown>/50%');
  assert.equal(
    formatHPAMetrics([cpuMetric(50)], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 72 } } }]),
    'cpu: 72%/50%',
  );
  const three = [
    cpuMetric(50),
    { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '512Mi' } } },
    { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'AverageValue', averageValue: '30' } } },
  ];
  assert.equal(
    formatHPAMetrics(three, [
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 10 } } },
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '100Mi' } } },
    ]),
    'cpu: 10%/50%, memory: 100Mi/512Mi + 1 more...',
  );
  assert.equal(formatHPAMetrics([three[2]], undefined), '<unknown>/30 (avg)');
  assert.equal(
    formatHPAMetrics([{ type: 'Object', object: { metric: { name: 'rps' }, target: { type: 'Value', value: '2k' } } }], [{ type: 'Object', object: { current: { value: '1500' } } }]),
    '1500/2k',
  );
  assert.equal(formatHPAMetrics([], undefined), '<none>');
});

test('table row for v2 and v1 objects', () => {
  const { columns, cells } = v2Def.table!;
  assert.deepEqual(
    columns.map((c) => c.name),
    ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age'],
  );
  const hpa: KObject = {
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [cpuMetric(50)] },
    status: { currentReplicas: 2, desiredReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 72 } } }] },
  };
  assert.deepEqual(cells(hpa, now), ['web', 'Deployment/web', 'cpu: 72%/50%', '1', 5, 2, '60m']);
  assert.deepEqual(v1Def.table!.cells(hpaV2ToV1(hpa), now), cells(hpa, now));
  const unset = { ...hpa, spec: { ...hpa.spec, minReplicas: undefined } };
  assert.equal(cells(unset, now)[3], '<unset>');
});

test('validation messages', () => {
  const hpa: KObject = {
    apiVersion: 'autoscaling/v2',
    metadata: { ...meta },
    spec: {
      scaleTargetRef: { kind: '', name: 'a/b' },
      minReplicas: 0,
      maxReplicas: 0,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } },
        { type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } },
    },
  };
  assert.deepEqual(v2Def.validate!(hpa).map(fieldErrorMessage), [
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    'spec.scaleTargetRef.kind: Required value',
    "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    'spec.metrics[1].pods: Required value: must populate information for the given metric source',
    'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
    'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
    'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
  ]);
  const inverted: KObject = { apiVersion: 'autoscaling/v1', metadata: { ...meta }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 5, maxReplicas: 2, targetCPUUtilizationPercentage: 0 } };
  assert.deepEqual(v1Def.validate!(inverted).map(fieldErrorMessage), [
    'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
  ]);
});

test('identity: hpa short name, "all" category, one storage for both versions', () => {
  for (const d of [v1Def, v2Def]) {
    assert.deepEqual(d.shortNames, ['hpa']);
    assert.deepEqual(d.categories, ['all']);
    assert.equal(d.plural, 'horizontalpodautoscalers');
    assert.equal(d.subresources?.status, true);
  }
  assert.deepEqual(v1Def.storage, { resource: 'horizontalpodautoscalers', version: 'autoscaling/v2' });
  assert.equal(v2Def.toStorage, undefined);
});
