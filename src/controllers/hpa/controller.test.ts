/** @module horizontal-pod-autoscaler controller on a fake clock with seeded caches and a fake metrics API. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { rfc3339 } from '../common/index.js';
import { ControllerTestEnv } from '../common/test-env.js';
import { HorizontalPodAutoscalerController } from './controller.js';

let env: ControllerTestEnv;
let ctrl: HorizontalPodAutoscalerController;
/** Pod name → CPU usage in millicores the fake metrics API reports. */
let usage: Map<string, number>;

beforeEach(async () => {
  env = await ControllerTestEnv.create(new Date('2025-03-01T12:00:00Z'));
  usage = new Map();
  env.ctx.listPodMetrics = async (namespace) => ({
    kind: 'PodMetricsList',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: {},
    items: [...usage].map(([name, milli]) => ({
      metadata: { name, namespace },
      timestamp: rfc3339(env.now),
      window: '15s',
      containers: [{ name: 'app', usage: { cpu: `${milli}m`, memory: '10Mi' } }],
    })),
  });
  ctrl = new HorizontalPodAutoscalerController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

async function deployment(replicas: number): Promise<void> {
  await env.client.create(Resources.deployments, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '200m' } } }] } },
    },
  });
}

/** A running, long-ready pod of the deployment using `milli` CPU. */
async function pod(name: string, milli: number | undefined, opts: { request?: boolean; ready?: boolean } = {}): Promise<void> {
  await env.client.create(Resources.pods, 'default', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'nginx', ...(opts.request === false ? {} : { resources: { requests: { cpu: '200m' } } }) }] },
  });
  const p = await env.client.get(Resources.pods, 'default', name);
  const longAgo = rfc3339(new Date(env.now.getTime() - 600_000));
  p.status = { phase: 'Running', startTime: longAgo, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: longAgo }] };
  await env.client.update(Resources.pods, 'default', p, { subresource: 'status' });
  if (milli !== undefined) usage.set(name, milli);
}

async function hpa(spec: KObject = {}): Promise<void> {
  await env.client.create(Resources.horizontalpodautoscalers, 'default', {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  });
}

async function step(): Promise<{ hpa: KObject; replicas: number }> {
  await env.refresh();
  // A failed reconcile throws after writing its condition and event, as kube's returns an error.
  await ctrl.sync('default/web').catch(() => undefined);
  await env.refresh();
  const h = (await env.get(Resources.horizontalpodautoscalers, 'web'))!;
  const d = (await env.get(Resources.deployments, 'web'))!;
  return { hpa: h, replicas: d.spec.replicas };
}

const cond = (h: KObject, type: string) => (h.status?.conditions ?? []).find((c: KObject) => c.type === type);

describe('HPA controller', () => {
  test('scales up on CPU above target and reports status, conditions and the event', async () => {
    await deployment(2);
    await pod('web-a', 180);
    await pod('web-b', 180);
    await hpa();
    const { hpa: h, replicas } = await step();
    // 90% of request against 50%: ratio 1.8 over 2 ready pods → 4.
    assert.equal(replicas, 4);
    assert.equal(h.status.currentReplicas, 2);
    assert.equal(h.status.desiredReplicas, 4);
    assert.deepEqual(h.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '180m' } } }]);
    assert.equal(h.status.lastScaleTime, rfc3339(env.now));
    assert.equal(cond(h, 'AbleToScale').reason, 'SucceededRescale');
    assert.equal(cond(h, 'AbleToScale').message, 'the HPA controller was able to update the target scale to 4');
    assert.equal(cond(h, 'ScalingActive').reason, 'ValidMetricFound');
    assert.equal(cond(h, 'ScalingActive').message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    assert.equal(cond(h, 'ScalingLimited').status, 'False');
    assert.equal(cond(h, 'ScalingLimited').reason, 'DesiredWithinRange');
    assert.ok((await env.events()).includes('Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target'));
  });

  test('caps scale-up at max(2×current, 4) without behavior and at maxReplicas', async () => {
    await deployment(1);
    await pod('web-a', 1000);
    await hpa({ maxReplicas: 3 });
    const { hpa: h, replicas } = await step();
    assert.equal(replicas, 3);
    assert.equal(cond(h, 'ScalingLimited').status, 'True');
    assert.equal(cond(h, 'ScalingLimited').reason, 'TooManyReplicas');
  });

  test('stays within tolerance', async () => {
    await deployment(2);
    await pod('web-a', 105);
    await pod('web-b', 105);
    await hpa();
    const { hpa: h, replicas } = await step();
    assert.equal(replicas, 2);
    assert.equal(h.status.currentMetrics[0].resource.current.averageUtilization, 52);
    assert.equal(cond(h, 'AbleToScale').reason, 'ReadyForNewScale');
  });

  test('scale-down waits for the downscale stabilization window', async () => {
    await deployment(4);
    for (const n of ['a', 'b', 'c', 'd']) await pod(`web-${n}`, 10);
    await hpa();
    let r = await step();
    // The initial recommendation (4) is inside the 5-minute window.
    assert.equal(r.replicas, 4);
    assert.equal(cond(r.hpa, 'AbleToScale').reason, 'ScaleDownStabilized');
    env.advance(301_000);
    r = await step();
    assert.equal(r.replicas, 1);
    assert.ok((await env.events()).includes('Normal SuccessfulRescale New size: 1; reason: All metrics below target'));
    assert.equal(cond(r.hpa, 'ScalingLimited').reason, 'DesiredWithinRange');
  });

  test('behavior policies limit the rate: 1 pod per 60 s down, scale-up window', async () => {
    await deployment(4);
    for (const n of ['a', 'b', 'c', 'd']) await pod(`web-${n}`, 10);
    await hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } });
    let r = await step();
    assert.equal(r.replicas, 3);
    assert.equal(cond(r.hpa, 'ScalingLimited').reason, 'ScaleDownLimit');
    env.advance(10_000);
    r = await step();
    // The period's budget is spent.
    assert.equal(r.replicas, 3);
    env.advance(60_000);
    r = await step();
    assert.equal(r.replicas, 2);
  });

  test('reports missing metrics as kube-controller-manager does', async () => {
    await deployment(1);
    await pod('web-a', undefined);
    await hpa();
    const { hpa: h, replicas } = await step();
    assert.equal(replicas, 1);
    const active = cond(h, 'ScalingActive');
    assert.equal(active.status, 'False');
    assert.equal(active.reason, 'FailedGetResourceMetric');
    assert.equal(active.message, 'the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    const events = await env.events();
    assert.ok(events.includes('Warning FailedGetResourceMetric failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API'), events.join('\n'));
    assert.ok(
      events.includes(
        'Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
      ),
      events.join('\n'),
    );
  });

  test('a pod without a CPU request is an error naming it', async () => {
    await deployment(1);
    await pod('web-a', 100, { request: false });
    await hpa();
    const { hpa: h } = await step();
    assert.match(cond(h, 'ScalingActive').message, /missing request for cpu in container app of Pod web-a/);
  });

  test('a target scaled to zero disables scaling; a missing target fails to get scale', async () => {
    await deployment(0);
    await hpa();
    let { hpa: h } = await step();
    assert.equal(cond(h, 'ScalingActive').reason, 'ScalingDisabled');
    await env.client.delete(Resources.deployments, 'default', 'web');
    await env.refresh();
    await assert.rejects(ctrl.sync('default/web'), /failed to query scale subresource for Deployment\/default\/web/);
    await env.refresh();
    h = (await env.get(Resources.horizontalpodautoscalers, 'web'))!;
    assert.equal(cond(h, 'AbleToScale').status, 'False');
    assert.equal(cond(h, 'AbleToScale').reason, 'FailedGetScale');
    assert.match(cond(h, 'AbleToScale').message, /^the HPA controller was unable to get the target's current scale: deployments.apps "web" not found/);
  });

  test('ContainerResource metrics and a StatefulSet target', async () => {
    await env.client.create(Resources.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { replicas: 1, serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'postgres' }] } } },
    });
    await pod('db-0', 150);
    await env.client.create(Resources.horizontalpodautoscalers, 'default', {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'db' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' },
        maxReplicas: 3,
        metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', target: { type: 'Utilization', averageUtilization: 50 } } }],
      },
    });
    await env.refresh();
    await ctrl.sync('default/db');
    await env.refresh();
    const h = (await env.get(Resources.horizontalpodautoscalers, 'db'))!;
    // 75% of the container's request against 50%: 1.5 → 2.
    assert.equal((await env.get(Resources.statefulsets, 'db'))!.spec.replicas, 2);
    assert.deepEqual(h.status.currentMetrics, [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'app', current: { averageUtilization: 75, averageValue: '150m' } } }]);
    assert.ok((await env.events()).includes('Normal SuccessfulRescale New size: 2; reason: cpu container resource utilization (percentage of request) above target'));
  });

  test('AverageValue targets use the raw per-pod average', async () => {
    await deployment(2);
    await pod('web-a', 300);
    await pod('web-b', 300);
    await hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '100m' } } }] });
    const { hpa: h, replicas } = await step();
    assert.equal(replicas, 4);
    assert.deepEqual(h.status.currentMetrics[0].resource.current, { averageValue: '300m' });
  });
});
