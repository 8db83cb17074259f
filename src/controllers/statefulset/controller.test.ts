/** @module statefulset-controller: ordered creation and scale-down, Parallel, claims, partitioned rolling updates, OnDelete, failed members. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { Resources } from '../../client/index.js';
import { ControllerTestEnv, testContainers } from '../common/test-env.js';
import { StatefulSetController, parentAndOrdinal, revisionName } from './controller.js';

let env: ControllerTestEnv;
let ctrl: StatefulSetController;

beforeEach(async () => {
  env = await ControllerTestEnv.create();
  ctrl = new StatefulSetController(env.ctx);
});
afterEach(async () => {
  ctrl.requeue.stop();
  await env.close();
});

function sts(spec: KObject = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      serviceName: 'nginx',
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: testContainers } },
      ...spec,
    },
  };
}

async function step(): Promise<KObject | undefined> {
  await env.refresh();
  await ctrl.sync('default/web');
  await env.refresh();
  return env.get(Resources.statefulsets, 'web');
}

async function podNames(): Promise<string[]> {
  return (await env.list(Resources.pods)).map((p) => p.metadata!.name!).sort((a, b) => parentAndOrdinal(a).ordinal - parentAndOrdinal(b).ordinal);
}

async function readyAll(): Promise<void> {
  for (const p of await env.list(Resources.pods)) if (p.status?.phase !== 'Running') await env.setPodStatus(p.metadata!.name!, 'Running');
}

/** Syncs a fixed number of rounds, marking every pod Running and Ready in between (a kubelet's part). */
async function converge(rounds = 12): Promise<KObject | undefined> {
  for (let i = 0; i < rounds; i++) {
    await step();
    await readyAll();
  }
  return step();
}

describe('statefulset-controller', () => {
  test('OrderedReady creates web-0, web-1, web-2 one at a time, each after its predecessor is Ready', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] }));
    let set = await step();
    assert.deepEqual(await podNames(), ['web-0']);
    set = await step();
    assert.deepEqual(await podNames(), ['web-0'], 'web-1 waits for web-0 to be Running and Ready');
    assert.equal(set?.status?.replicas, 1);
    assert.equal(set?.status?.readyReplicas, 0);

    const pod = (await env.get(Resources.pods, 'web-0'))!;
    const rev = revisionName(set!);
    assert.deepEqual(pod.metadata?.labels, {
      app: 'nginx',
      'statefulset.kubernetes.io/pod-name': 'web-0',
      'apps.kubernetes.io/pod-index': '0',
      'controller-revision-hash': rev,
    });
    assert.match(rev, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(pod.spec?.hostname, 'web-0');
    assert.equal(pod.spec?.subdomain, 'nginx');
    assert.deepEqual(pod.spec?.volumes?.[0], { name: 'www', persistentVolumeClaim: { claimName: 'www-web-0' } });
    assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet');
    const pvc = await env.get(Resources.persistentvolumeclaims, 'www-web-0');
    assert.equal(pvc?.metadata?.labels?.app, 'nginx');
    assert.equal(pvc?.metadata?.ownerReferences, undefined, 'Retain: claims are not owned by the set');

    await env.setPodStatus('web-0', 'Running');
    await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1']);
    await env.setPodStatus('web-1', 'Running');
    set = await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2']);
    await env.setPodStatus('web-2', 'Running');
    set = await step();
    assert.deepEqual(
      { replicas: set?.status?.replicas, ready: set?.status?.readyReplicas, available: set?.status?.availableReplicas, current: set?.status?.currentReplicas, updated: set?.status?.updatedReplicas },
      { replicas: 3, ready: 3, available: 3, current: 3, updated: 3 },
    );
    assert.equal(set?.status?.currentRevision, rev);
    assert.equal(set?.status?.updateRevision, rev);
    assert.equal(set?.status?.observedGeneration, 1);
    assert.equal(set?.status?.collisionCount, 0);
    const events = await env.events();
    for (const n of [0, 1, 2]) {
      assert.ok(events.includes(`Normal SuccessfulCreate create Pod web-${n} in StatefulSet web successful`), `web-${n}`);
      assert.ok(events.includes(`Normal SuccessfulCreate create Claim www-web-${n} Pod web-${n} in StatefulSet web success`));
    }
    assert.deepEqual(
      events.filter((e) => e.includes('create Pod')),
      [0, 1, 2].map((n) => `Normal SuccessfulCreate create Pod web-${n} in StatefulSet web successful`),
      'in ordinal order',
    );
  });

  test('scale down removes the highest ordinal first, one at a time, and keeps the claims', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] }));
    await converge();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2']);
    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', { spec: { replicas: 1 } });
    await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1']);
    await step();
    assert.deepEqual(await podNames(), ['web-0']);
    const set = await step();
    assert.equal(set?.status?.replicas, 1);
    const claims = (await env.list(Resources.persistentvolumeclaims)).map((c) => c.metadata?.name);
    assert.deepEqual(claims, ['www-web-0', 'www-web-1', 'www-web-2']);
    const events = await env.events();
    const deletes = events.filter((e) => e.startsWith('Normal SuccessfulDelete'));
    assert.deepEqual(deletes, ['Normal SuccessfulDelete delete Pod web-2 in StatefulSet web successful', 'Normal SuccessfulDelete delete Pod web-1 in StatefulSet web successful']);
  });

  test('an unready member blocks OrderedReady scale-down', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts());
    await converge();
    await env.setPodStatus('web-0', 'Running', { ready: false });
    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', { spec: { replicas: 2 } });
    await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2']);
  });

  test('Parallel creates and deletes all members at once', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ podManagementPolicy: 'Parallel' }));
    await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2']);
    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', { spec: { replicas: 0 } });
    await step();
    assert.deepEqual(await podNames(), []);
  });

  test('a partitioned rolling update replaces members from the highest ordinal down to the partition', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts());
    let set = await converge();
    const oldRev = set!.status!.currentRevision;
    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', {
      spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } }, template: { spec: { containers: [{ ...testContainers[0], image: 'busybox:1.37' }] } } },
    });
    set = await step();
    const newRev = set!.status!.updateRevision;
    assert.notEqual(newRev, oldRev);
    assert.deepEqual(await podNames(), ['web-0', 'web-1'], 'web-2 deleted first');
    set = await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2']);
    const web2 = await env.get(Resources.pods, 'web-2');
    assert.equal(web2?.metadata?.labels?.['controller-revision-hash'], newRev);
    assert.equal(web2?.spec?.containers?.[0]?.image, 'busybox:1.37');
    await step();
    assert.deepEqual(await podNames(), ['web-0', 'web-1', 'web-2'], 'web-1 waits for the new web-2 to be Ready');
    set = await converge();
    const revs = Object.fromEntries((await env.list(Resources.pods)).map((p) => [p.metadata?.name, p.metadata?.labels?.['controller-revision-hash']]));
    assert.deepEqual(revs, { 'web-0': oldRev, 'web-1': newRev, 'web-2': newRev }, 'below the partition stays');
    assert.equal(set?.status?.currentRevision, oldRev);
    assert.equal(set?.status?.updateRevision, newRev);
    assert.equal(set?.status?.currentReplicas, 1);
    assert.equal(set?.status?.updatedReplicas, 2);

    // A member below the partition that is deleted comes back at the current revision.
    await env.client.delete(Resources.pods, 'default', 'web-0');
    await step();
    assert.equal((await env.get(Resources.pods, 'web-0'))?.metadata?.labels?.['controller-revision-hash'], oldRev);
    assert.equal((await env.get(Resources.pods, 'web-0'))?.spec?.containers?.[0]?.image, 'busybox:1.36');

    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    set = await converge();
    assert.equal(set?.status?.currentRevision, newRev, 'the update completes');
    assert.equal(set?.status?.currentReplicas, 3);
    assert.equal(set?.status?.updatedReplicas, 3);
  });

  test('OnDelete leaves pods alone until they are deleted', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ updateStrategy: { type: 'OnDelete' } }));
    let set = await converge();
    await env.client.patch(Resources.statefulsets, 'default', 'web', 'merge', { spec: { template: { spec: { containers: [{ ...testContainers[0], image: 'busybox:1.37' }] } } } });
    set = await converge();
    assert.ok((await env.list(Resources.pods)).every((p) => p.spec.containers[0].image === 'busybox:1.36'));
    assert.equal(set?.status?.updatedReplicas, 0);
    await env.client.delete(Resources.pods, 'default', 'web-1');
    set = await converge();
    assert.equal((await env.get(Resources.pods, 'web-1'))?.spec?.containers?.[0]?.image, 'busybox:1.37');
    assert.equal(set?.status?.updatedReplicas, 1);
  });

  test('a failed member is deleted and recreated', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ replicas: 1 }));
    await converge();
    const uid = (await env.get(Resources.pods, 'web-0'))?.metadata?.uid;
    await env.setPodStatus('web-0', 'Failed');
    await step();
    assert.deepEqual(await podNames(), []);
    await step();
    const again = await env.get(Resources.pods, 'web-0');
    assert.ok(again);
    assert.notEqual(again?.metadata?.uid, uid);
  });

  test('orphaned members that match are adopted', async () => {
    await env.client.create(Resources.statefulsets, 'default', sts({ replicas: 1 }));
    await env.client.create(Resources.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', labels: { app: 'nginx' } }, spec: { containers: testContainers } });
    await env.client.create(Resources.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other-0', labels: { app: 'nginx' } }, spec: { containers: testContainers } });
    await step();
    assert.equal((await env.get(Resources.pods, 'web-0'))?.metadata?.ownerReferences?.[0]?.name, 'web');
    assert.equal((await env.get(Resources.pods, 'other-0'))?.metadata?.ownerReferences, undefined, 'not a member by name');
  });
});
