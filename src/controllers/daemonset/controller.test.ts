/** @module daemonset-controller: placement on tainted and untainted nodes, nodes joining and leaving, failed pods, rolling updates, status. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv, testContainers } from '../common/test-env.js';
import { DaemonSetController } from './controller.js';
import { targetNodeName } from './node-eligibility.js';

let env: ControllerTestEnv;
let ctrl: DaemonSetController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new DaemonSetController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

function daemonSet(spec: KObject = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: testContainers } },
      ...spec,
    },
  };
}

async function addNode(name: string, labels: Record<string, string> = {}, taints: KObject[] = []): Promise<void> {
  await env.client.create(Resources.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: { taints } });
}

async function step(): Promise<KObject | undefined> {
  await env.refresh();
  await ctrl.sync('default/agent');
  await env.refresh();
  return env.get(Resources.daemonsets, 'agent');
}

async function pods(): Promise<KObject[]> {
  return env.list(Resources.pods);
}

/** Node name → daemon pod names (live ones). */
async function placement(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const p of await pods()) {
    if (p.metadata?.deletionTimestamp) continue;
    const n = targetNodeName(p) ?? '?';
    (out[n] ??= []).push(p.metadata!.name!);
  }
  return out;
}

/** What the scheduler and node agent would do: bind each pod to its node and run it. */
async function bindAndRun(): Promise<void> {
  for (const p of await pods()) {
    if (p.metadata?.deletionTimestamp) continue;
    if (!p.spec?.nodeName) {
      await env.client.createSubresource(Resources.pods, 'default', p.metadata!.name!, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: p.metadata!.name },
        target: { kind: 'Node', name: targetNodeName(p) },
      });
    }
    if (p.status?.phase !== 'Running') await env.setPodStatus(p.metadata!.name!, 'Running');
  }
}

/** The node agent finishing graceful deletions. */
async function finishTerminations(): Promise<void> {
  for (const p of await pods()) if (p.metadata?.deletionTimestamp) await env.client.delete(Resources.pods, 'default', p.metadata!.name!, { gracePeriodSeconds: 0 });
}

describe('daemonset-controller', () => {
  test('one pod per untainted node, pinned by node affinity, with the daemon tolerations', async () => {
    await addNode('n1');
    await addNode('n2', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    await addNode('n3', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
    await env.client.create(Resources.daemonsets, 'default', daemonSet());
    let ds = await step();
    const place = await placement();
    assert.deepEqual(Object.keys(place).sort(), ['n1', 'n3'], 'tainted n2 is skipped, cordoned n3 is not');
    const pod = (await pods())[0];
    assert.match(pod.metadata!.name!, /^agent-[a-z0-9]{5}$/);
    assert.equal(pod.spec?.nodeName, undefined, 'the scheduler binds it');
    assert.equal(pod.metadata?.labels?.['pod-template-generation'], '1');
    assert.match(pod.metadata?.labels?.['controller-revision-hash'] ?? '', /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(
      pod.spec.tolerations.map((t: KObject) => `${t.key}:${t.effect}`),
      [
        'node.kubernetes.io/not-ready:NoExecute',
        'node.kubernetes.io/unreachable:NoExecute',
        'node.kubernetes.io/disk-pressure:NoSchedule',
        'node.kubernetes.io/memory-pressure:NoSchedule',
        'node.kubernetes.io/pid-pressure:NoSchedule',
        'node.kubernetes.io/unschedulable:NoSchedule',
      ],
    );
    assert.equal(ds?.status?.desiredNumberScheduled, 2);
    assert.equal(ds?.status?.currentNumberScheduled, 0, 'status counts what the cache holds');
    ds = await step();
    assert.equal(ds?.status?.currentNumberScheduled, 2);
    assert.equal(ds?.status?.numberReady, 0);
    assert.equal(ds?.status?.numberUnavailable, 2);
    assert.equal(ds?.status?.updatedNumberScheduled, 2);
    assert.equal(ds?.status?.observedGeneration, 1);
    assert.equal((await env.events()).filter((e) => /^Normal SuccessfulCreate Created pod: agent-[a-z0-9]{5}$/.test(e)).length, 2);

    await bindAndRun();
    ds = await step();
    assert.equal(ds?.status?.numberReady, 2);
    assert.equal(ds?.status?.numberAvailable, 2);
    assert.equal(ds?.status?.numberUnavailable, undefined);
    assert.equal((await pods()).length, 2, 'idempotent');

    await env.client.patch(Resources.daemonsets, 'default', 'agent', 'merge', { spec: { template: { spec: { tolerations: [{ key: 'dedicated', operator: 'Exists' }] } } } });
    await step();
    assert.ok((await placement()).n2, 'a toleration lets it onto the tainted node');
  });

  test('follows nodes joining and leaving, and nodeSelector changes', async () => {
    await addNode('n1', { disk: 'ssd' });
    await env.client.create(Resources.daemonsets, 'default', daemonSet({ template: { metadata: { labels: { app: 'agent' } }, spec: { containers: testContainers, nodeSelector: { disk: 'ssd' } } } }));
    await step();
    assert.deepEqual(Object.keys(await placement()), ['n1']);
    await addNode('n2', { disk: 'ssd' });
    await addNode('n3', { disk: 'hdd' });
    let ds = await step();
    assert.deepEqual(Object.keys(await placement()).sort(), ['n1', 'n2']);
    assert.equal(ds?.status?.desiredNumberScheduled, 2);

    // n2 leaves before its pod is scheduled: the pinned pod goes too.
    await env.client.delete(Resources.nodes, undefined, 'n2');
    await step();
    assert.deepEqual(Object.keys(await placement()), ['n1']);

    // n1 stops matching the selector: its pod is removed, counted misscheduled until then.
    await bindAndRun();
    await env.client.patch(Resources.nodes, undefined, 'n1', 'merge', { metadata: { labels: { disk: 'hdd' } } });
    ds = await step();
    assert.equal(ds?.status?.numberMisscheduled, 1);
    assert.equal(ds?.status?.desiredNumberScheduled, 0);
    await finishTerminations();
    ds = await step();
    assert.deepEqual(await placement(), {});
    assert.equal(ds?.status?.numberMisscheduled, 0);
  });

  test('a NoExecute taint evicts the daemon pod; a NoSchedule taint lets it stay', async () => {
    await addNode('n1');
    await addNode('n2');
    await env.client.create(Resources.daemonsets, 'default', daemonSet());
    await step();
    await bindAndRun();
    await env.client.patch(Resources.nodes, undefined, 'n1', 'merge', { spec: { taints: [{ key: 'maint', effect: 'NoSchedule' }] } });
    await env.client.patch(Resources.nodes, undefined, 'n2', 'merge', { spec: { taints: [{ key: 'maint', effect: 'NoExecute' }] } });
    await step();
    await finishTerminations();
    assert.deepEqual(Object.keys(await placement()), ['n1']);
  });

  test('a failed daemon pod is deleted (with an event) and replaced, with a backoff on repeats', async () => {
    await addNode('n1');
    await env.client.create(Resources.daemonsets, 'default', daemonSet());
    await step();
    await bindAndRun();
    const [first] = await pods();
    await env.setPodStatus(first.metadata!.name!, 'Failed');
    await step();
    assert.equal(await env.get(Resources.pods, first.metadata!.name!), undefined, 'failed pods are deleted at once');
    assert.ok((await env.events()).includes(`Warning FailedDaemonPod Found failed daemon pod default/${first.metadata?.name} on node n1, will try to kill it`));
    await step();
    const [second] = await pods();
    assert.ok(second, 'replaced');
    await bindAndRun();
    await env.setPodStatus(second.metadata!.name!, 'Failed');
    await step();
    assert.ok(await env.get(Resources.pods, second.metadata!.name!), 'a second failure within the backoff waits');
    assert.equal(ctrl.requeue.requested.get('default/agent'), 1000);
    env.advance(1000);
    await step();
    assert.equal(await env.get(Resources.pods, second.metadata!.name!), undefined);
  });

  test('RollingUpdate replaces one node at a time (maxUnavailable 1)', async () => {
    for (const n of ['n1', 'n2', 'n3']) await addNode(n);
    await env.client.create(Resources.daemonsets, 'default', daemonSet());
    await step();
    await bindAndRun();
    let ds = await step();
    await env.client.patch(Resources.daemonsets, 'default', 'agent', 'merge', { spec: { template: { spec: { containers: [{ ...testContainers[0], image: 'busybox:1.37' }] } } } });
    ds = await step();
    assert.equal(ds?.metadata?.annotations?.['deprecated.daemonset.template.generation'], '2');
    let live = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
    assert.equal(live.length, 2, 'one old pod is terminating');
    assert.equal(ds?.status?.updatedNumberScheduled, 0);
    for (let round = 0; round < 8; round++) {
      await finishTerminations();
      ds = await step();
      live = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
      const unavailable = 3 - live.filter((p) => p.status?.phase === 'Running').length;
      assert.ok(unavailable <= 1, `never more than one node without an available pod (round ${round})`);
      await bindAndRun();
    }
    ds = await step();
    const images = (await pods()).map((p) => p.spec.containers[0].image);
    assert.deepEqual(images, ['busybox:1.37', 'busybox:1.37', 'busybox:1.37']);
    assert.equal(ds?.status?.updatedNumberScheduled, 3);
    assert.equal(ds?.status?.numberAvailable, 3);
    assert.ok((await pods()).every((p) => p.metadata?.labels?.['pod-template-generation'] === '2'));
  });

  test('RollingUpdate with maxSurge starts the new pod before removing the old one', async () => {
    await addNode('n1');
    await env.client.create(Resources.daemonsets, 'default', daemonSet({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await step();
    await bindAndRun();
    await step();
    const [old] = await pods();
    await env.client.patch(Resources.daemonsets, 'default', 'agent', 'merge', { spec: { template: { spec: { containers: [{ ...testContainers[0], image: 'busybox:1.37' }] } } } });
    await step();
    assert.equal((await pods()).length, 2, 'surge pod created beside the old one');
    assert.equal((await env.get(Resources.pods, old.metadata!.name!))?.metadata?.deletionTimestamp, undefined);
    await bindAndRun();
    await step();
    await finishTerminations();
    const left = await pods();
    assert.equal(left.length, 1);
    assert.equal(left[0].spec.containers[0].image, 'busybox:1.37');
  });
});
